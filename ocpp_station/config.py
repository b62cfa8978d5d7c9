"""The station's TOML configuration (docs/configuration.md), validated against
``schemas/station_config.schema.json``.

Every problem in a file is reported at once, each as ``file: key: what is wrong``, so a firmware
engineer fixes a bad file in one pass instead of one error per start-up.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocpp_station.layout import layout_problems
from ocpp_station.schema_fast import Check, UnsupportedSchema, compile_fast

if TYPE_CHECKING:
    import jsonschema


class ConfigError(Exception):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("invalid configuration:\n  " + "\n  ".join(errors))


@dataclass(frozen=True)
class EvseConfig:
    id: int
    connectors: tuple[int, ...]
    phases: int = 3
    max_current_a: float = 32.0


@dataclass
class StationConfig:
    id: str
    csms_url: str
    data_dir: Path
    evses: list[EvseConfig]
    vendor: str = "ocpp-station"
    model: str = "sim"
    serial_number: str | None = None
    firmware_version: str | None = None
    security_profile: int = 1
    password: str | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    nominal_voltage: float = 230.0
    log_level: str = "INFO"
    log_format: str = "text"  # "text" | "json" (one JSON object per line)
    hal_backend: str = "sim"
    hal_options: dict[str, Any] = field(default_factory=dict)
    control_socket: Path | None = None
    device_model: dict[str, Any] = field(default_factory=dict)
    # [firmware]: the install step's command, whether a reboot activates the installed image,
    # and the manufacturer root(s) that issue firmware signing certificates (L01).
    firmware_install_command: tuple[str, ...] | None = None
    firmware_reboot_after_install: bool = True
    manufacturer_root: Path | None = None
    http_listen: str | None = None  # "[http] listen": the live status page, off when None
    source: str = "<config>"

    @property
    def evse_map(self) -> dict[int, list[int]]:
        return {e.id: list(e.connectors) for e in self.evses}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """One of the project's own JSON schemas (``schemas/``, package ``ocpp_station.schemas``)."""
    text = resources.files("ocpp_station.schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _path_of(error: jsonschema.ValidationError) -> str:
    parts: list[str] = []
    for p in error.absolute_path:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown key(s): {error.message.split('(')[-1].rstrip(')')}"
    if error.validator == "required":
        return f"missing required key: {error.message.split(' is a required')[0]}"
    return error.message


@cache
def _config_check() -> Check:
    """The config schema compiled to a predicate (ocpp_station.schema_fast): a valid file never
    needs jsonschema, which costs a start-up ~40 ms and ~4 MiB."""
    try:
        return compile_fast(load_schema("station_config.schema.json"))
    except UnsupportedSchema:  # a keyword the compiler lacks: jsonschema checks every file
        return lambda data: False


def _schema_errors(data: dict[str, Any], source: str) -> list[str]:
    """Every schema problem of ``data``, described by jsonschema (the authority)."""
    import jsonschema  # lazy: only for a config the fast check refused

    validator = jsonschema.Draft7Validator(load_schema("station_config.schema.json"))
    return [
        f"{source}: {_path_of(e)}: {_describe(e)}"
        for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]


def config_from_dict(
    data: dict[str, Any], source: str = "<config>", base: Path | None = None
) -> StationConfig:
    """Validate a parsed config; relative paths resolve against ``base`` (the file's folder)."""
    base = base or Path.cwd()
    errors = [] if _config_check()(data) else _schema_errors(data, source)
    if errors:
        raise ConfigError(errors)
    st = data["station"]
    profile = st.get("security_profile", 1)
    url = st["csms_url"]
    if profile in (2, 3) and not url.startswith("wss://"):
        errors.append(f"{source}: station.csms_url: security profile {profile} needs a wss:// URL")
    if profile in (2, 3) and "ca_file" not in st:
        errors.append(f"{source}: station.ca_file: security profile {profile} needs ca_file")
    if profile == 3 and not ("cert_file" in st and "key_file" in st):
        errors.append(
            f"{source}: station.cert_file: security profile 3 needs cert_file and key_file"
        )
    if profile in (1, 2) and "password" not in st:
        # A00.FR.203/302: a username and password with every connection request.
        errors.append(f"{source}: station.password: security profile {profile} needs a password")
    if profile == 0:
        # A test rig without authentication: only when stated, only on a plain ws:// URL.
        if not url.startswith("ws://"):
            errors.append(
                f"{source}: station.csms_url: security profile 0 (no authentication) is for "
                "plain ws:// test rigs only, not for a wss:// URL"
            )
        if "password" in st:
            errors.append(
                f"{source}: station.password: security profile 0 sends no password; remove it "
                "or choose profile 1"
            )
    ids = [e["id"] for e in data["evse"]]
    if len(set(ids)) != len(ids):
        errors.append(f"{source}: evse: EVSE ids must be unique, got {ids}")
    else:  # OCPP 2.0.1 part 1: EVSEs 1..n, connectors 1..m, without gaps (ocpp_station.layout)
        layout = {e["id"]: e["connectors"] for e in data["evse"]}
        errors += [f"{source}: evse: {problem}" for problem in layout_problems(layout)]
    listen = data.get("http", {}).get("listen")
    if listen is not None:
        port = int(listen.rsplit(":", 1)[1])  # the schema's pattern guarantees the digits
        if port > 65535:  # 0: any free port (the log names the one chosen)
            errors.append(f"{source}: http.listen: port must be 0..65535, got {port}")
    for key in ("ca_file", "cert_file", "key_file"):
        if key in st and not (base / st[key]).is_file():
            errors.append(f"{source}: station.{key}: file not found: {base / st[key]}")
    firmware = data.get("firmware", {})
    root = firmware.get("manufacturer_root")
    if root is not None and not (base / root).is_file():
        errors.append(f"{source}: firmware.manufacturer_root: file not found: {base / root}")
    if errors:
        raise ConfigError(errors)

    def p(value: str | None) -> Path | None:
        return None if value is None else (base / value)

    hal = dict(data.get("hal", {"backend": "sim"}))
    backend = hal.pop("backend")
    data_dir = base / st.get("data_dir", f"var/{st['id']}")
    control = data.get("control", {})
    return StationConfig(
        id=st["id"],
        csms_url=url,
        data_dir=data_dir,
        evses=[
            EvseConfig(
                id=e["id"],
                connectors=tuple(e["connectors"]),
                phases=e.get("phases", 3),
                max_current_a=float(e.get("max_current_a", 32.0)),
            )
            for e in sorted(data["evse"], key=lambda e: e["id"])
        ],
        vendor=st.get("vendor", "ocpp-station"),
        model=st.get("model", "sim"),
        serial_number=st.get("serial_number"),
        firmware_version=st.get("firmware_version"),
        security_profile=profile,
        password=st.get("password"),
        ca_file=p(st.get("ca_file")),
        cert_file=p(st.get("cert_file")),
        key_file=p(st.get("key_file")),
        nominal_voltage=float(st.get("nominal_voltage", 230.0)),
        log_level=st.get("log_level", "INFO"),
        log_format=st.get("log_format", "text"),
        hal_backend=backend,
        hal_options=hal,
        control_socket=p(control["socket"]) if "socket" in control else None,
        device_model=dict(data.get("device_model", {})),
        firmware_install_command=(
            tuple(firmware["install_command"]) if "install_command" in firmware else None
        ),
        firmware_reboot_after_install=firmware.get("reboot_after_install", True),
        manufacturer_root=p(root),
        http_listen=listen,
        source=source,
    )


def load_config(path: str | Path) -> StationConfig:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: TOML syntax error: {exc}"]) from None
    return config_from_dict(data, source=str(path), base=path.parent.resolve())
