"""MQTT credentials: how a client logs in to the broker, and the embedded broker's own login.

An embedded broker (:mod:`broker.embedded`) started by a service or by ``make run`` /
``make services`` refuses anonymous clients: on its first start a username and a random
password are written to a credentials file beside the service's state (``var/mqtt.credentials``
by default, JSON, mode 0600) and reused afterwards; the service's own publisher logs in with
them, and so does every client that finds the file.

Lookup order of :func:`resolve_credentials` (publishers, subscribers, ``qcore monitor``):
``QCORE_MQTT_USERNAME`` with ``QCORE_MQTT_PASSWORD``; the file ``QCORE_MQTT_CREDENTIALS``
names; ``var/mqtt.credentials`` under the working directory; none (an anonymous login, which a
broker that allows it, such as a local development Mosquitto, accepts).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from broker.errors import BrokerConfigError

__all__ = [
    "USERNAME_ENV",
    "PASSWORD_ENV",
    "CREDENTIALS_FILE_ENV",
    "MQTT_CREDENTIALS_FILE",
    "LOCAL_CREDENTIALS_FILE",
    "EMBEDDED_USERNAME",
    "MqttCredentials",
    "read_credentials_file",
    "ensure_credentials_file",
    "resolve_credentials",
]

USERNAME_ENV = "QCORE_MQTT_USERNAME"
PASSWORD_ENV = "QCORE_MQTT_PASSWORD"
CREDENTIALS_FILE_ENV = "QCORE_MQTT_CREDENTIALS"
#: Name of a service's credentials file, in the directory of its state.
MQTT_CREDENTIALS_FILE = "mqtt.credentials"
#: The embedded broker's credentials, relative to the working directory (``make run``).
LOCAL_CREDENTIALS_FILE = Path("var") / MQTT_CREDENTIALS_FILE
#: The user an embedded broker admits.
EMBEDDED_USERNAME = "qcore"


@dataclass(frozen=True, slots=True)
class MqttCredentials:
    """An MQTT username and password (the password is never shown in a repr)."""

    username: str
    password: str = field(repr=False)


def read_credentials_file(path: Path | str) -> MqttCredentials:
    """The credentials of a JSON file ``{"username": ..., "password": ...}``.

    Raises:
        BrokerConfigError: the file cannot be read or is not such a document.
    """
    path = Path(path).expanduser()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return MqttCredentials(str(document["username"]), str(document["password"]))
    except OSError as exc:
        raise BrokerConfigError(f"cannot read the MQTT credentials {path}: "
                                f"{exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError):
        raise BrokerConfigError(f"{path} is not an MQTT credentials file (JSON with username "
                                "and password)") from None


def ensure_credentials_file(path: Path | str) -> MqttCredentials:
    """The credentials stored in ``path``; on the first call a new login (user
    :data:`EMBEDDED_USERNAME`, a 256-bit random password) is written there, mode 0600.

    Raises:
        BrokerConfigError: the file exists but cannot be read, or cannot be written.
    """
    path = Path(path).expanduser()
    if path.exists():
        return read_credentials_file(path)
    credentials = MqttCredentials(EMBEDDED_USERNAME, secrets.token_urlsafe(32))
    document = json.dumps({"username": credentials.username, "password": credentials.password})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return read_credentials_file(path)
    except OSError as exc:
        raise BrokerConfigError(f"cannot write the MQTT credentials {path}: "
                                f"{exc.strerror or exc}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(document + "\n")
    return credentials


def resolve_credentials(environ: Mapping[str, str] | None = None) -> MqttCredentials | None:
    """The login a client uses (see the module docstring for the lookup order), or None.

    Raises:
        BrokerConfigError: ``QCORE_MQTT_USERNAME`` without ``QCORE_MQTT_PASSWORD``, or a
            named credentials file that cannot be read.
    """
    env = os.environ if environ is None else environ
    username = env.get(USERNAME_ENV, "").strip()
    if username:
        if PASSWORD_ENV not in env:
            raise BrokerConfigError(f"{USERNAME_ENV} is set without {PASSWORD_ENV}")
        return MqttCredentials(username, env[PASSWORD_ENV])
    named = env.get(CREDENTIALS_FILE_ENV, "").strip()
    if named:
        return read_credentials_file(named)
    if LOCAL_CREDENTIALS_FILE.exists():
        return read_credentials_file(LOCAL_CREDENTIALS_FILE)
    return None
