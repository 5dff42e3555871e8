"""The Django admin shows the security records (invitations, API tokens, jobs) to staff
without letting anyone add or edit them there: a token made in the admin would skip the
hashing, and its hash is never shown."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from jobs import queue
from sources.sharing import members, tokens
from sources.sharing.jobs import BACKUP
from sources.sharing.models import ApiToken, Invitation, InvitationState


@pytest.fixture
def admin_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    return client


@pytest.fixture
def token(bob) -> ApiToken:
    return tokens.create_token(bob, name="Zotero sync")[0]


@pytest.fixture
def invitation(library, alice) -> Invitation:
    return members.invite(library, by=alice, who="newcomer@example.org", role="viewer")


def test_staff_see_tokens_without_their_hash(admin_client, token):
    listing = admin_client.get(reverse("admin:sources_apitoken_changelist"))
    assert listing.status_code == 200
    assert "Zotero sync" in listing.content.decode()
    page = admin_client.get(reverse("admin:sources_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    assert token.prefix in page.content.decode()
    assert token.key_hash not in page.content.decode()


def test_no_token_can_be_added_or_edited_in_the_admin(admin_client, token):
    assert admin_client.get(reverse("admin:sources_apitoken_add")).status_code == 403
    change = reverse("admin:sources_apitoken_change", args=[token.pk])
    admin_client.post(change, {"name": "renamed", "read_only": "", "key_hash": "0" * 64})
    token.refresh_from_db()
    assert (token.name, token.key_hash) != ("renamed", "0" * 64)


def test_deleting_a_token_in_the_admin_revokes_it(admin_client, token):
    url = reverse("admin:sources_apitoken_delete", args=[token.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_staff_withdraw_a_pending_invitation_but_cannot_edit_it(admin_client, invitation):
    listing = reverse("admin:sources_invitation_changelist")
    assert "newcomer@example.org" in admin_client.get(listing).content.decode()
    assert admin_client.get(reverse("admin:sources_invitation_add")).status_code == 403
    change = reverse("admin:sources_invitation_change", args=[invitation.pk])
    admin_client.post(change, {"role": "owner", "state": "accepted"})
    invitation.refresh_from_db()
    assert (invitation.role, invitation.state) == ("viewer", InvitationState.PENDING)
    admin_client.post(listing, {"action": "withdraw", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.WITHDRAWN


def test_staff_see_jobs_without_their_files(admin_client, library, alice):
    job = queue.enqueue(BACKUP, library=library, user=alice)
    page = admin_client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    assert page.status_code == 200
    assert 'name="output"' not in page.content.decode()
    assert admin_client.get(reverse("admin:jobs_job_add")).status_code == 403


@pytest.mark.parametrize("model", ["sources_apitoken", "sources_invitation", "jobs_job"])
def test_these_admin_pages_are_for_staff_only(client, alice, model):
    client.force_login(alice)
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
