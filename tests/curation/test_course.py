"""curation/course.py: the one timeline rule of the clinical course (no database)."""

from decimal import Decimal

from curation.course import Timed, timeline_problems


def ev(kind, months, label=None):
    return Timed(
        kind,
        label or kind.replace("_", " ").capitalize(),
        None if months is None else Decimal(months),
    )


def test_a_possible_course_has_no_problem():
    events = [ev("local_recurrence", 14), ev("distant_metastasis", 20), ev("death_of_disease", 30)]
    assert timeline_problems(Decimal(30), "dod", events) == []
    assert timeline_problems(Decimal(24), "ned", [ev("local_recurrence", None)]) == []


def test_a_recurrence_after_the_last_follow_up_is_refused_on_its_row():
    [problem] = timeline_problems(Decimal(12), "ned", [ev("local_recurrence", 14)])
    assert problem.where == ("event", 0)
    assert "after the last follow-up (12 months)" in problem.message


def test_nothing_happens_after_death_and_the_follow_up_ends_there():
    events = [ev("death_of_disease", 10), ev("local_recurrence", 20)]
    problems = timeline_problems(Decimal(24), "dod", events)
    wheres = {p.where for p in problems}
    assert ("event", 1) in wheres
    assert "follow_up_months" in wheres


def test_a_death_contradicts_an_alive_status_and_a_patient_dies_once():
    problems = timeline_problems(None, "ned", [ev("death_of_disease", 10)])
    assert [p.where for p in problems] == ["outcome"]
    problems = timeline_problems(None, "doc", [ev("death_of_disease", 10)])
    assert "must say the same" in problems[0].message
    twice = timeline_problems(None, "", [ev("death_of_disease", 5), ev("death_other_cause", 8)])
    assert twice[0].where == ("event", 1)


def test_a_treatment_after_the_last_follow_up_is_refused_too():
    [problem] = timeline_problems(
        Decimal(6), "awd", [], [Timed("systemic", "Systemic therapy", Decimal(9))]
    )
    assert problem.where == ("treatment", 0)
