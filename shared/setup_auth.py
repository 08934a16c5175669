"""Wires the login guard, tokens, revocation cache and trusted proxies into an app's state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI

from shared.auth import LocalTokens
from shared.db import Database
from shared.login_guard import LoginGuard, hash_slots
from shared.network import parse_trusted_proxies
from shared.revocation import AccountEpochs
from shared.settings import ServiceSettings


def install_auth(app: FastAPI, settings: ServiceSettings, db: Database, account_model: Any) -> None:
    state = app.state
    session_max_seconds = int(settings.session_max_hours * 3600)
    state.tokens = LocalTokens(
        settings.secret_key,
        issuer=str(state.service_name),
        minutes=settings.access_token_minutes,
        session_idle_minutes=settings.session_idle_minutes,
        session_max_seconds=session_max_seconds,
    )
    state.token_verifier = state.tokens
    state.login_guard = LoginGuard(
        max_per_pair=settings.login_max_failures,
        max_per_address=settings.login_max_failures_per_address,
        lock_addresses=settings.login_lock_addresses,
        window_seconds=settings.login_lockout_seconds,
    )
    state.trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
    # Tokens older than the longest lifetime have expired: no revocation before that matters.
    longest = max(settings.access_token_minutes * 60, session_max_seconds)
    state.account_epochs = AccountEpochs(
        db,
        account_model,
        refresh_seconds=settings.revocation_refresh_seconds,
        horizon=dt.timedelta(seconds=longest + 300),
    )
    hash_slots.configure(settings.password_hash_concurrency, settings.password_hash_wait_seconds)
