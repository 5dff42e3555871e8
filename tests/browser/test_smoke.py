from django.core.management import call_command
from django.urls import reverse

from tests.factories import PASSWORD


def test_demo_user_signs_in_and_sees_the_demo_library(page, transactional_db):
    call_command("load_demo")
    page.goto(reverse("login"))
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-marginalia")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Mao in Moscow, 1949–1950").wait_for()
    assert page.js_errors == []


def test_wrong_password_shows_a_readable_message(page, alice):
    page.goto(reverse("login"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign in").click()
    assert "Please enter a correct username and password" in page.content()
