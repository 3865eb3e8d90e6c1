"""Schemathesis hooks for `make fuzz` (scripts/schemathesis.sh).

The fuzzer authenticates as an admin, so that admin-only operations and other users' resources
are reached too. Fuzzing may well delete that very admin (`DELETE /users/{id}` with an id it saw
in a response), after which its token is rightly refused; the provider below then signs up and
promotes a new admin, so the rest of the run is not stuck on 401s.

A calendar feed's token is only ever seen inside a URL, which no OpenAPI link can take apart, so
half of the requests for a feed use the admin's real one.

A well-formed `Idempotency-Key` is replaced by a fresh one, as a client makes a new key for each
new operation: a generated key used twice would rightly replay the first answer, whose resource a
later step may have deleted (malformed keys are kept, to be refused).

Valid requests (Schemathesis's positive data, which must be accepted) keep to the rules a JSON
schema cannot state, as a real client does: a list's `cursor` is only ever one the server issued
(a client passes back `next_cursor`; any other is a 400 by design, checked by the API tests), so
none is invented; an event starts in the future, and ends after it starts. Invalid requests
(negative data) are left as generated.

Environment (set by scripts/schemathesis.sh): FUZZ_API_URL, FUZZ_TOKEN (the first admin's token),
FUZZ_EVENTSCTL (the eventsctl binary, which promotes; it reads TABLE_NAME and DYNAMODB_ENDPOINT).
"""

import datetime
import json
import os
import secrets
import subprocess
import threading
import urllib.error
import urllib.request

import schemathesis
from hypothesis import strategies as st

API_URL = os.environ["FUZZ_API_URL"]
EVENTSCTL = os.environ["FUZZ_EVENTSCTL"]


def _call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(API_URL + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def _new_admin():
    username = f"fuzz-admin-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    status, _ = _call("POST", "/users", {"username": username, "email": f"{username}@example.com", "password": password})
    if status != 201:
        raise RuntimeError(f"signing up {username} answered {status}")
    subprocess.run([EVENTSCTL, "promote", username], check=True, capture_output=True, timeout=60)
    status, tokens = _call("POST", "/auth/token", {"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"logging in {username} answered {status}")
    return tokens["access_token"]


@schemathesis.auth(refresh_interval=600)
class FreshAdmin:
    """A token of a live admin; re-checked whenever a request with it gets a 401."""

    lock = threading.Lock()
    token = os.environ.get("FUZZ_TOKEN")

    def get(self, case, context):
        with self.lock:
            if FreshAdmin.token is None or _call("GET", "/users/me", token=FreshAdmin.token)[0] != 200:
                FreshAdmin.token = _new_admin()
            return FreshAdmin.token

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook.apply_to(path="/calendar/{token}/feed.ics")
def flatmap_path_parameters(context, path_parameters):
    status, body = _call("GET", "/users/me/calendar", token=FreshAdmin.token)
    if status != 200:
        return st.just(path_parameters)
    token = body["url"].rsplit("/calendar/", 1)[1].split("/", 1)[0]
    return st.sampled_from([path_parameters, {**(path_parameters or {}), "token": token}])


def _is_positive(case):
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    return generation is not None and generation.mode.is_positive


def _later(days=30):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fresh_idempotency_key(case):
    for name, value in list((case.headers or {}).items()):
        if name.lower() == "idempotency-key" and isinstance(value, str):
            well_formed = 0 < len(value.strip()) <= 255 and all(33 <= ord(c) <= 126 for c in value.strip())
            if well_formed:
                case.headers[name] = secrets.token_hex(16)


@schemathesis.hook
def map_case(context, case):
    _fresh_idempotency_key(case)
    if not _is_positive(case):
        return case
    if isinstance(case.query, dict) and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    if case.method.upper() in ("POST", "PUT", "PATCH") and case.path in ("/events", "/events/{id}"):
        body = case.body if isinstance(case.body, dict) else None
        if body is not None and ("starts_at" in body or "ends_at" in body):
            body["starts_at"] = _later()
            if body.get("ends_at") is not None:
                body["ends_at"] = _later(days=31)
    return case
