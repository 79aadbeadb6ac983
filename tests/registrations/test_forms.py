import pytest

from registrations.forms import RegistrationForm


def valid_data(**overrides):
    return {
        "name": "Zoë Ñúñez",
        "email": "zoe@example.edu",
        "affiliation": "UT Austin",
        "position": "postdoc",
        "consent": "on",
        "website": "",
    } | overrides


def test_valid_form_cleans_values():
    form = RegistrationForm(valid_data(name="  Zoë   Ñúñez ", email="  Zoe@Example.edu "))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Zoë Ñúñez"
    assert form.cleaned_data["email"] == "Zoe@Example.edu"


@pytest.mark.parametrize(
    "name", ["王小明", "محمد الأحمد", "דוד כהן", "Zoë Ñúñez", "O'Brien-Smith", "<script>alert(1)</script>"]
)
def test_names_in_any_script_are_accepted_as_typed(name):
    form = RegistrationForm(valid_data(name=name))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == name


ONE_LINE = "Please write this on one line, without line breaks or control characters."


@pytest.mark.parametrize(
    "name",
    ["Ana\r\nBcc: victim@example.com", "Ana\nLópez", "Ana\x00", "Ana\x00López", "Ana\tLópez", "Ana\u2028B"],
)
def test_line_breaks_and_control_characters_in_name_are_refused_with_one_message(name):
    form = RegistrationForm(valid_data(name=name))

    assert not form.is_valid()
    assert form.errors["name"] == [ONE_LINE]


# Embeddings, overrides and isolates: each would turn the text around it on the pages that show the name.
DIRECTION_CONTROLS = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize("field", ["name", "affiliation"])
@pytest.mark.parametrize("control", DIRECTION_CONTROLS)
def test_direction_controls_are_refused_with_the_one_line_message(field, control):
    form = RegistrationForm(valid_data(**{field: f"{control}Zoë O'Brien"}))

    assert not form.is_valid()
    assert form.errors[field] == [ONE_LINE]


@pytest.mark.parametrize("name", ["\u200fדוד כהן", "محمد الأحمد\u200f", "Zoë\u200e (זואי)"])
def test_right_to_left_and_left_to_right_marks_are_accepted(name):
    form = RegistrationForm(valid_data(name=name))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == name


@pytest.mark.parametrize("name", ["   ", "\u200b", "\ufeff \u200b", "\u200d\u2060"])
def test_blank_or_invisible_name_is_refused(name):
    form = RegistrationForm(valid_data(name=name))

    assert not form.is_valid()
    assert form.errors["name"] == ["Please enter your name."] or form.errors["name"] == ["This field is required."]


@pytest.mark.parametrize("field", ["name", "affiliation"])
def test_ten_kilobyte_fields_are_refused_with_the_limit(field):
    form = RegistrationForm(valid_data(**{field: "x" * 10_240}))

    assert not form.is_valid()
    assert form.errors[field] == ["Ensure this value has at most 200 characters (it has 10240)."]


def test_ten_kilobyte_email_is_refused():
    form = RegistrationForm(valid_data(email="a" * 10_000 + "@example.edu"))

    assert not form.is_valid()
    assert "email" in form.errors


@pytest.mark.parametrize("email", ["ana+seminar@bücher.example", "ana+seminar@example.edu", "ANA@UT.EDU"])
def test_plus_addresses_and_unicode_domains_are_accepted(email):
    form = RegistrationForm(valid_data(email=email))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == email


@pytest.mark.parametrize("email", ["not-an-address", "ana@", "ana@example.edu\r\nBcc: x@example.com"])
def test_invalid_addresses_are_refused(email):
    form = RegistrationForm(valid_data(email=email))

    assert not form.is_valid()
    assert form.errors["email"] == ["Enter a valid email address."]


def test_consent_is_required():
    data = valid_data()
    del data["consent"]

    form = RegistrationForm(data)

    assert not form.is_valid()
    assert form.errors["consent"] == ["Please agree to the privacy notice so we can keep your registration."]


def test_unknown_position_is_refused():
    form = RegistrationForm(valid_data(position="emperor"))

    assert not form.is_valid()
    assert "position" in form.errors


def test_position_is_optional():
    form = RegistrationForm(valid_data(position=""))

    assert form.is_valid(), form.errors


def test_filled_honeypot_is_refused_with_a_form_wide_message():
    form = RegistrationForm(valid_data(website="https://spam.example"))

    assert not form.is_valid()
    assert "filled in automatically" in form.non_field_errors()[0]


def test_form_has_only_its_explicit_fields():
    assert list(RegistrationForm().fields) == ["name", "email", "affiliation", "position", "consent", "website"]


def test_forms_share_no_state_one_form_to_the_next(questions, make_event, venue):
    # The forms share their standard fields (not copied for each form): what one form is given or
    # finds must not reach the next.
    hybrid = make_event(attendance_mode="hybrid", online_capacity=10)
    refused = RegistrationForm(valid_data(name="", email="not an address"), questions=questions)
    assert not refused.is_valid()
    with_attendance = RegistrationForm(questions=(), event=hybrid)

    fresh = RegistrationForm(valid_data(name="Ana"))

    assert fresh.is_valid(), fresh.errors
    assert fresh.cleaned_data["name"] == "Ana" and refused.cleaned_data.get("name") is None
    assert list(fresh.fields) == ["name", "email", "affiliation", "position", "consent", "website"]
    assert "attendance" in with_attendance.fields and f"question_{questions[0].pk}" in refused.fields
    assert 'value="Ana"' in str(fresh["name"]) and "Ana" not in str(RegistrationForm()["name"])
    assert venue.room in str(with_attendance["attendance"])


# The talk's own questions


@pytest.fixture
def questions(event, ask):
    return [
        ask(event, "Dietary restrictions for lunch?", help_text="We order food for everyone who registers."),
        ask(event, "Lunch?", kind="yes_no", required=True),
        ask(event, "Session", kind="single_choice", choices=["Morning", "Afternoon, late"], required=True),
        ask(event, "Topics", kind="multiple_choice", choices=["Vision", "Language", "Theory"]),
        ask(event, "Anything else?", kind="long_text"),
    ]


def answer_data(questions, answers=None):
    """The form as posted: `answers` maps a question's index in `questions` to its value."""
    data = valid_data()
    for question in questions:
        data[f"question_{question.pk}"] = ""
    data |= {f"question_{questions[index].pk}": value for index, value in (answers or {}).items()}
    return data


def valid_answers(questions):
    return answer_data(questions, {1: "yes", 2: "Afternoon, late"})


def test_questions_come_after_the_standard_fields_before_the_consent(questions):
    form = RegistrationForm(questions=questions)

    names = [f"question_{question.pk}" for question in questions]
    assert list(form.fields) == ["name", "email", "affiliation", "position", *names, "consent", "website"]
    assert [field.label for field in form.question_fields()] == [question.label for question in questions]


def test_answers_come_back_as_stored_values(questions):
    data = answer_data(questions, {0: "  No nuts, please ", 1: "no", 2: "Morning", 4: "Line one\nline two"})
    data[f"question_{questions[3].pk}"] = ["Vision", "Theory"]

    form = RegistrationForm(data, questions=questions)

    assert form.is_valid(), form.errors
    assert form.answers() == {
        questions[0].pk: "No nuts, please",
        questions[1].pk: "no",
        questions[2].pk: "Morning",
        questions[3].pk: "Vision\nTheory",
        questions[4].pk: "Line one\nline two",
    }


def test_required_questions_must_be_answered(questions):
    form = RegistrationForm(answer_data(questions), questions=questions)

    assert not form.is_valid()
    assert form.errors[f"question_{questions[1].pk}"] == ["Please answer this question."]
    assert form.errors[f"question_{questions[2].pk}"] == ["Please answer this question."]
    assert f"question_{questions[0].pk}" not in form.errors


@pytest.mark.parametrize(
    ("index", "forged"),
    [(2, "Evening"), (2, "morning"), (1, "maybe"), (1, "True"), (3, ["Vision", "Cooking"])],
)
def test_a_forged_answer_outside_the_choices_is_refused(questions, index, forged):
    data = valid_answers(questions) | {f"question_{questions[index].pk}": forged}

    form = RegistrationForm(data, questions=questions)

    assert not form.is_valid()
    assert form.errors[f"question_{questions[index].pk}"] == [
        "That is not one of the answers offered. Please choose from the list."
    ]


def test_short_answers_are_one_line_and_bounded(questions):
    form = RegistrationForm(valid_answers(questions) | {f"question_{questions[0].pk}": "a\r\nb"}, questions=questions)
    assert "one line" in form.errors[f"question_{questions[0].pk}"][0]

    form = RegistrationForm(valid_answers(questions) | {f"question_{questions[0].pk}": "\u202eb"}, questions=questions)
    assert form.errors[f"question_{questions[0].pk}"] == [ONE_LINE]

    form = RegistrationForm(valid_answers(questions) | {f"question_{questions[0].pk}": "x" * 301}, questions=questions)
    assert "at most 300 characters" in form.errors[f"question_{questions[0].pk}"][0]

    form = RegistrationForm(
        valid_answers(questions) | {f"question_{questions[4].pk}": "x" * 10_240}, questions=questions
    )
    assert "at most 2000 characters" in form.errors[f"question_{questions[4].pk}"][0]


def test_error_summary_links_each_error_to_its_control(questions):
    form = RegistrationForm(answer_data(questions) | {"email": "nope"}, questions=questions)
    form.is_valid()

    assert [(item["label"], item["target"]) for item in form.error_summary()] == [
        ("Email", "id_email"),
        ("Lunch?", f"id_question_{questions[1].pk}_0"),
        ("Session", f"id_question_{questions[2].pk}_0"),
    ]
