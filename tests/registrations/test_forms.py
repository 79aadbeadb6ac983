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


@pytest.mark.parametrize(
    "name", ["Ana\r\nBcc: victim@example.com", "Ana\nLópez", "Ana\x00", "Ana\tLópez", "Ana\u2028B"]
)
def test_line_breaks_and_control_characters_in_name_are_refused(name):
    form = RegistrationForm(valid_data(name=name))

    assert not form.is_valid()
    assert "Please write this on one line, without line breaks or control characters." in form.errors["name"]


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
