"""The HTTP session the vendor clients call through (CRM REST, WeCom)."""

from __future__ import annotations

import requests


def _own_credentials_only(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """The request as the client built it: no credentials are added to it."""
    return request


def api_session(session: requests.Session | None = None) -> requests.Session:
    """``session`` (a new one by default) sending only the credentials its client sets: the
    CRM's Bearer token, WeCom's ``access_token`` in the query.

    Left alone, requests looks every call's host up in ``~/.netrc`` (or ``$NETRC``) and, when
    it finds it there, sends that login as Basic auth: in place of the CRM's Bearer token
    (every call then answered 401 INVALID_SESSION_ID, the token fetched again and refused
    again) and on top of every WeCom call. It also reads that file on each call. A session
    with credentials of its own keeps them; proxies and CA bundles from the environment still
    apply."""
    session = session if session is not None else requests.Session()
    if session.auth is None:
        session.auth = _own_credentials_only
    return session
