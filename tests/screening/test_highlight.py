"""screening.highlight: an entity's terms marked in sanitised HTML, markup left whole."""

from screening.highlight import highlight, query_phrases, term_pattern


def test_terms_are_marked_as_whole_words_in_any_case():
    pattern = term_pattern(["inflammatory myofibroblastic tumor", "ALK"])
    html = "An Inflammatory myofibroblastic tumor of the scalp, ALK-positive; not BALK."
    assert highlight(html, pattern) == (
        "An <mark>Inflammatory myofibroblastic tumor</mark> of the scalp, "
        "<mark>ALK</mark>-positive; not BALK."
    )


def test_tags_are_never_split_and_the_longest_term_wins():
    pattern = term_pattern(["ALK", "ALK fusion", "i"])
    html = "<i>CARS1::ALK fusion</i> in <sup>1</sup>"
    assert highlight(html, pattern) == "<i>CARS1::<mark>ALK fusion</mark></i> in <sup>1</sup>"


def test_no_terms_leave_the_text_alone():
    assert term_pattern(["", "  "]) is None
    assert highlight("<b>x</b>", None) == "<b>x</b>"


def test_a_saved_querys_title_and_abstract_phrases_are_its_terms():
    query = (
        '("inflammatory myofibroblastic tumor"[tiab] OR "Granuloma, Plasma Cell"[mh]) '
        'AND ("skin"[ti] OR cutaneous[tiab] OR "Skin Neoplasms"[mh])'
    )
    assert query_phrases(query) == ["inflammatory myofibroblastic tumor", "skin"]
