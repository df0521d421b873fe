"""A small browser without JavaScript: real HTTP(S) requests, cookies, forms and CSRF.

The production check talks to the site as a person's browser does, over real
sockets (http.client), never through Django's test client, which accepts any
host and skips the proxy, TLS and gunicorn.
"""

from __future__ import annotations

import gzip
import http.client
import ssl
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    url: str
    seconds: float

    @property
    def text(self) -> str:
        raw = self.body
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8", errors="replace")

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


@dataclass
class Browser:
    """One person's browser: its own cookies, against one site (`base`, e.g. https://localhost:4431).

    `connect_port` sends the requests to another port than the one in `base`
    (straight to gunicorn, as a proxy would), with `extra_headers` added.
    """

    base: str
    cafile: str | None = None
    connect_port: int | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 20.0
    cookies: dict[str, str] = field(default_factory=dict)

    def _connection(self, url: str) -> http.client.HTTPConnection:
        parts = urlsplit(url)
        port = self.connect_port or parts.port
        if parts.scheme == "https" and self.connect_port is None:
            context = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(
                parts.hostname, port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(parts.hostname, port, timeout=self.timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Response:
        url = urljoin(self.base + "/", path)
        for _ in range(10):
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            sent = {"Host": parts.netloc, "User-Agent": "rarederm-production-check"}
            sent.update(self.extra_headers)
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            sent.update(headers or {})
            connection = self._connection(url)
            started = time.monotonic()
            try:
                connection.request(method, target, body=body, headers=sent)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            response = Response(
                answer.status, answer.headers, data, url, time.monotonic() - started
            )
            for value in answer.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    if morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            if not (follow and answer.status in (301, 302, 303, 307, 308)):
                return response
            url = urljoin(url, answer.headers["Location"])
            if answer.status in (301, 302, 303):
                method, body = "GET", None
        raise AssertionError(f"too many redirects from {path}")

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: list[tuple[str, str]] | dict, **kwargs) -> Response:
        """A form POST as a browser sends it: the CSRF token, Origin and Referer included."""
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        if not any(name == "csrfmiddlewaretoken" for name, _ in pairs):
            pairs.append(("csrfmiddlewaretoken", self.cookies.get("csrftoken", "")))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.base,
            "Referer": urljoin(self.base + "/", path),
        }
        body = urlencode(pairs).encode()
        return self.request("POST", path, body=body, headers=headers, **kwargs)

    def submit(self, path: str, form_id: str | None = None, **changes) -> Response:
        """GET a page, fill in its form and send it.

        The form is the one with id `form_id`, else the first POST form that has
        every field of `changes` (the page's header has a logout form too).
        """
        page = self.get(path)
        assert page.status == 200, (path, page.status, page.text[:500])
        form = find_form(page.text, form_id, set(changes))
        fields = [(k, v) for k, v in form.fields if k not in changes]
        fields += [(k, str(v)) for k, v in changes.items()]
        return self.post(urljoin(page.url, form.action or page.url), fields)

    def log_in(self, username: str, password: str) -> Response:
        response = self.submit("/accounts/login/", username=username, password=password)
        assert "sessionid" in self.cookies, (response.status, response.text[:1000])
        return response


@dataclass
class Form:
    id: str
    action: str
    method: str
    fields: list[tuple[str, str]]  # what a browser would send as the page stands
    names: set[str] = field(default_factory=set)  # every field, chosen or not


class _Forms(HTMLParser):
    """Every form of a page and the values a browser would send (no JavaScript)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._template_depth = 0
        self._select: tuple[str, list[str]] | None = None
        self._select_value: str | None = None
        self._option: dict | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return
        if tag == "form":
            self._form = Form(
                attrs.get("id", ""), attrs.get("action", ""), attrs.get("method", "get"), []
            )
            self.forms.append(self._form)
        elif self._form is None or ("name" not in attrs and tag != "option"):
            return
        if "name" in attrs:
            self._form.names.add(attrs["name"])
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self._form.fields.append((attrs["name"], attrs.get("value", default)))
        elif tag == "select":
            self._select, self._select_value = (attrs["name"], []), None
        elif tag == "option" and self._select is not None:
            value = attrs.get("value")
            self._option = {"value": value, "text": []}
            if "selected" in attrs:
                self._select_value = value
            self._select[1].append(value)
        elif tag == "textarea":
            self._textarea = (attrs["name"], [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "template":
            self._template_depth -= 1
        if self._template_depth or self._form is None:
            return
        if tag == "select" and self._select is not None:
            name, values = self._select
            chosen = self._select_value if self._select_value is not None else values[:1]
            if isinstance(chosen, list):
                chosen = chosen[0] if chosen else ""
            self._form.fields.append((name, chosen or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._form.fields.append((name, "".join(text).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def find_form(html: str, form_id: str | None = None, names: set[str] = frozenset()) -> Form:
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form_id is not None:
            if form.id == form_id:
                return form
        elif form.method.lower() == "post" and names <= form.names:
            return form
    raise AssertionError(f"no form {form_id or sorted(names)} on the page")
