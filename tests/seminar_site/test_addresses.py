import pytest
from django.template import Context, Template

from seminar_site.addresses import ascii_address, readable_address


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("zoe@例え.jp", "zoe@xn--r8jz45g.jp"),
        ("Ana.Nunez+seminar@Universität.Example", "Ana.Nunez+seminar@xn--universitt-y5a.Example"),
        ("zoë@bücher.example", "zoë@xn--bcher-kva.example"),  # the local part is the mailbox's own business
        ("ana@example.edu", "ana@example.edu"),
        ("ana@xn--bcher-kva.example", "ana@xn--bcher-kva.example"),
        ("", ""),
        ("no-at-sign", "no-at-sign"),
        ("a@" + "é" * 70 + ".example", "a@" + "é" * 70 + ".example"),  # a label too long: left to validation
    ],
)
def test_the_stored_address_has_its_domain_in_ascii(typed, stored):
    assert ascii_address(typed) == stored


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("zoe@xn--r8jz45g.jp", "zoe@例え.jp"),
        ("ana+seminar@XN--BCHER-KVA.example", "ana+seminar@bücher.example"),
        ("ana@example.edu", "ana@example.edu"),
        ("ana@xn--zz.example", "ana@xn--zz.example"),  # not punycode: shown as it is
        ("ana@xn--.example", "ana@xn--.example"),
        ("xn--r8jz45g.jp", "xn--r8jz45g.jp"),  # no address
        ("zoe@例え.jp", "zoe@例え.jp"),
    ],
)
def test_the_shown_address_has_its_domain_as_people_type_it(stored, shown):
    assert readable_address(stored) == shown


def test_every_address_shown_comes_back_to_the_one_stored():
    for address in ("zoe@例え.jp", "ana@bücher.example", "wang@例子.公司"):
        assert readable_address(ascii_address(address)) == address
        assert ascii_address(readable_address(ascii_address(address))) == ascii_address(address)


def test_the_template_filter_escapes_what_it_shows():
    template = Template("{% load addresses %}{{ address|readable_address }}")

    assert template.render(Context({"address": "zoe@xn--r8jz45g.jp"})) == "zoe@例え.jp"
    assert template.render(Context({"address": '"<b>"@example.edu'})) == "&quot;&lt;b&gt;&quot;@example.edu"
    assert template.render(Context({"address": None})) == ""
