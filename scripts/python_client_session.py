"""A short session through a Python client generated from the served OpenAPI document.

Run by scripts/python-client.sh with the generated package on PYTHONPATH and API_URL set: signs
two people up, logs them in, creates an event of one seat, registers both (one confirmed, one
waitlisted), lists, cancels the confirmed one and checks that the waiter took the seat. Every
step goes through the generated code, so a document the generator misreads (a wrong type, a
missing field, an undeclared status) fails here.
"""

import datetime
import os
import secrets
import sys

from event_management_api_client import AuthenticatedClient, Client
from event_management_api_client.api.auth import log_in
from event_management_api_client.api.events import create_event, get_event
from event_management_api_client.api.registrations import (
    cancel_my_registration,
    get_my_registration,
    list_event_registrations,
    list_my_registrations,
    register,
)
from event_management_api_client.api.users import sign_up
from event_management_api_client.models import (
    Event,
    LogIn,
    NewEvent,
    Registration,
    RegistrationPage,
    RegistrationStatus,
    SignUp,
    TokenPair,
    User,
)


def expect(value, kind, what):
    """The answer `value` as a `kind`, or the session stops saying what came instead."""
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def person(api, tag):
    """Signs someone up and logs them in; their client."""
    username = f"py{tag}{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    body = SignUp(username=username, email=f"{username}@example.com", password=password)
    user = expect(sign_up.sync(client=api, body=body), User, "sign up")
    assert user.username == username, user
    tokens = expect(log_in.sync(client=api, body=LogIn(username=username, password=password)), TokenPair, "log in")
    assert tokens.expires_in > 0, tokens
    return user, AuthenticatedClient(base_url=os.environ["API_URL"], token=tokens.access_token)


def main():
    api = Client(base_url=os.environ["API_URL"], raise_on_unexpected_status=True)
    organizer, organizer_api = person(api, "org")
    ana, ana_api = person(api, "ana")
    ben, ben_api = person(api, "ben")

    starts = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
    draft = NewEvent(title="Python client meetup", location="Porto", starts_at=starts, capacity=1)
    event = expect(create_event.sync(client=organizer_api, body=draft), Event, "create")
    assert event.capacity == 1 and event.organizer.id == organizer.id, event

    first = expect(register.sync(id=event.id, client=ana_api), Registration, "register ana")
    assert first.status == RegistrationStatus.CONFIRMED and first.waitlist_position is None, first
    second = expect(register.sync(id=event.id, client=ben_api), Registration, "register ben")
    assert second.status == RegistrationStatus.WAITLISTED and second.waitlist_position == 1, second

    listed = expect(
        list_event_registrations.sync(id=event.id, client=organizer_api), RegistrationPage, "list"
    )
    assert [r.user.username for r in listed.results] == [ana.username, ben.username], listed
    mine = expect(list_my_registrations.sync(client=ana_api), RegistrationPage, "list mine")
    assert [r.event_id for r in mine.results] == [event.id], mine

    cancelled = cancel_my_registration.sync_detailed(id=event.id, client=ana_api)
    assert cancelled.status_code == 204, cancelled
    promoted = expect(get_my_registration.sync(id=event.id, client=ben_api), Registration, "ben's")
    assert promoted.status == RegistrationStatus.CONFIRMED, promoted
    after = expect(get_event.sync(id=event.id, client=api), Event, "event")
    assert (after.confirmed_count, after.waitlist_count) == (1, 0), after
    print(f"python client session: {len(listed.results)} registrations listed, the waiter promoted")


if __name__ == "__main__":
    main()
