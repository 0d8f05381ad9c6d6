"""The sign-in file of a shared kb: its users, their groups and tokens, and which folders each group reads.

One TOML file (`kb serve --auth FILE`), written by `kb user …` and readable by a person:

    secret = "…"                       # signs the session cookies; made when the file is made
    [users.alice]
    password = "scrypt:32768:8:1$…"    # werkzeug's salted scrypt hash, never the password
    groups = ["staff"]
    tokens = ["9f86d0…"]               # SHA-256 of each bearer token `kb user token` printed
    [access]
    "internal/" = ["staff"]            # a folder below the reports folder → the groups that read it

A report under no `[access]` entry is readable by every signed-in user; under several, the longest
(most specific) entry decides. The file is replaced atomically and kept to its owner (mode 600).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KbError

NAME = re.compile(r"^[\w.-]{1,64}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "kb_"


class AuthError(KbError):
    """The sign-in file or a request of `kb user` is not usable as given."""


@dataclass(frozen=True)
class User:
    name: str
    password: str  # the hash
    groups: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()  # SHA-256 hex of each live token


@dataclass
class AuthFile:
    path: Path
    secret: str
    users: dict[str, User] = field(default_factory=dict)
    access: dict[str, tuple[str, ...]] = field(default_factory=dict)


def load(path: Path | str) -> AuthFile:
    """The file as it is now; a clear error when it is missing or malformed."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthError(f"{path}: no such sign-in file (create it with `kb user add NAME --auth {path}`)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AuthError(f"{path}: not a readable TOML sign-in file ({exc})") from None
    try:
        users = {name: User(name, str(u["password"]), tuple(map(str, u.get("groups", ()))),
                            tuple(map(str, u.get("tokens", ()))))
                 for name, u in dict(data.get("users", {})).items()}
        access = {_folder(k): tuple(map(str, v)) for k, v in dict(data.get("access", {})).items()}
        secret = str(data["secret"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AuthError(f"{path}: malformed sign-in file ({exc!r} missing or of the wrong type)") from None
    if len(secret) < 32:
        raise AuthError(f"{path}: `secret` must be at least 32 characters")
    return AuthFile(path, secret, users, access)


def save(auth: AuthFile) -> None:
    import tomli_w

    data = {"secret": auth.secret,
            "users": {u.name: {"password": u.password, "groups": list(u.groups), "tokens": list(u.tokens)}
                      for u in auth.users.values()}}
    if auth.access:
        data["access"] = {k: list(v) for k, v in auth.access.items()}
    tmp = auth.path.with_name(f".{auth.path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(HEADER + tomli_w.dumps(data))
    os.replace(tmp, auth.path)


HEADER = """# kb sign-in file: `kb user add/token/revoke/remove NAME --auth THIS_FILE` keep the users.
# Passwords and tokens are stored as hashes only. Which groups read which folders of the reports
# folder goes in an [access] table (reports under no entry are readable by every signed-in user):
#
#   [access]
#   "internal/" = ["staff"]
#   "internal/hr/" = ["hr"]
#
# (`kb user` rewrites this file and keeps the table, not these comments.)

"""


def _folder(entry: str) -> str:
    """"internal", "./internal/", "internal\\" → "internal/"; a file entry keeps its name."""
    entry = entry.replace("\\", "/").strip()
    while entry.startswith("./"):
        entry = entry[2:]
    if not entry or entry.startswith("/") or ".." in entry.split("/"):
        raise ValueError(f"access entry {entry!r} must be a path below the reports folder")
    return entry if "." in entry.rsplit("/", 1)[-1] else entry.rstrip("/") + "/"


def open_or_create(path: Path | str) -> AuthFile:
    path = Path(path)
    if path.exists():
        return load(path)
    return AuthFile(path, secrets.token_urlsafe(48))


def add_user(path: Path | str, name: str, password: str, groups=()) -> User:
    from werkzeug.security import generate_password_hash

    auth = open_or_create(path)
    if not NAME.match(name):
        raise AuthError(f"user name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    if name in auth.users:
        raise AuthError(f"user {name!r} already exists in {auth.path}")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must be at least {MIN_PASSWORD} characters")
    bad = [g for g in groups if not NAME.match(g)]
    if bad:
        raise AuthError(f"group name {bad[0]!r}: use letters, digits, '.', '_' or '-'")
    user = User(name, generate_password_hash(password), tuple(dict.fromkeys(groups)))
    auth.users[name] = user
    save(auth)
    return user


def _user(auth: AuthFile, name: str) -> User:
    if name not in auth.users:
        raise AuthError(f"no user {name!r} in {auth.path}")
    return auth.users[name]


def set_password(path: Path | str, name: str, password: str) -> None:
    """A new password for `name`; the sessions signed in with the old one end (webapp/auth.py)."""
    from werkzeug.security import generate_password_hash

    auth = load(path)
    user = _user(auth, name)
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must be at least {MIN_PASSWORD} characters")
    auth.users[name] = User(user.name, generate_password_hash(password), user.groups, user.tokens)
    save(auth)


def new_token(path: Path | str, name: str) -> str:
    """A new bearer token for `name` (printed once; only its hash is kept)."""
    auth = load(path)
    user = _user(auth, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    auth.users[name] = User(user.name, user.password, user.groups, user.tokens + (token_hash(token),))
    save(auth)
    return token


def revoke(path: Path | str, name: str) -> int:
    """Ends every token of `name`; the number ended."""
    auth = load(path)
    user = _user(auth, name)
    auth.users[name] = User(user.name, user.password, user.groups, ())
    save(auth)
    return len(user.tokens)


def remove_user(path: Path | str, name: str) -> None:
    auth = load(path)
    _user(auth, name)
    del auth.users[name]
    save(auth)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(auth: AuthFile, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = token_hash(token)
    for user in auth.users.values():
        if any(hmac.compare_digest(digest, t) for t in user.tokens):
            return user
    return None


# a hash to check against when the user does not exist, so that a wrong name takes as long as a
# wrong password (the answer time does not tell which names exist)
_DUMMY = None


def check_password(auth: AuthFile, name: str, password: str) -> User | None:
    from werkzeug.security import check_password_hash, generate_password_hash

    global _DUMMY
    user = auth.users.get(name)
    if user is None:
        _DUMMY = _DUMMY or generate_password_hash(secrets.token_hex(8))
        check_password_hash(_DUMMY, password)
        return None
    return user if check_password_hash(user.password, password) else None
