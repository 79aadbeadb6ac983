import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from events.models import Question


def test_choice_questions_need_two_distinct_choices_stored_tidy(event):
    question = Question(event=event, label="Lunch?", kind=Question.Kind.SINGLE_CHOICE, choices="Vegan\n\n  Vegan ")
    with pytest.raises(ValidationError) as error:
        question.full_clean()
    assert error.value.message_dict == {"choices": ["Give at least two choices, one per line."]}

    question.choices = " Vegan \r\nVegetarian\nVegan\n  Halal   food "
    question.full_clean()
    assert question.choices == "Vegan\nVegetarian\nHalal food"
    assert question.choice_list == ["Vegan", "Vegetarian", "Halal food"]


def test_text_questions_take_no_choices(event):
    question = Question(event=event, label="Anything else?", kind=Question.Kind.LONG_TEXT, choices="a\nb")
    with pytest.raises(ValidationError) as error:
        question.full_clean()
    assert error.value.message_dict == {"choices": ["Only single and multiple choice questions have choices."]}


def test_a_choice_longer_than_200_characters_is_refused(event):
    question = Question(event=event, label="Pick", kind=Question.Kind.MULTIPLE_CHOICE, choices="a\n" + "b" * 201)
    with pytest.raises(ValidationError, match="under 200 characters"):
        question.full_clean()


def test_database_rejects_an_unknown_kind_of_question(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        Question.objects.create(event=event, label="?", kind="essay")


def test_copying_questions_to_another_talk_keeps_them_in_order(make_event, ask):
    source, target = make_event(), make_event()
    ask(source, "Second", position=2, required=True)
    ask(source, "First", kind=Question.Kind.SINGLE_CHOICE, choices=["Yes, please", "No"], position=1)
    ask(target, "Already there", position=1)

    copies = source.questions.all().copy_to(target)

    assert [question.label for question in copies] == ["First", "Second"]
    assert list(target.questions.values_list("label", "kind", "choices", "required", "position")) == [
        ("Already there", "short_text", "", False, 1),
        ("First", "single_choice", "Yes, please\nNo", False, 1),
        ("Second", "short_text", "", True, 2),
    ]
    assert source.questions.count() == 2
