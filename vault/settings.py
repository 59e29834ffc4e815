"""Settings: ``EVAULT_*`` environment variables over an optional TOML file over defaults.

Build them with :func:`load_settings`; nothing here is a module-level global. Demo mode is
explicit (``EVAULT_MODE=demo`` or ``evault demo``): only there may secrets be generated and
kept in the data directory. In production every secret must be given, and a demo secret,
a short one or a well-known placeholder is refused at start.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from vault.errors import ConfigError

__all__ = [
    "BlobBackend",
    "Mode",
    "Settings",
    "default_data_dir",
    "load_settings",
    "read_pin",
]

#: Secrets that must never be accepted in production, whatever their length.
_PLACEHOLDERS = ("demo", "change-me", "changeme", "secret", "password", "example", "test")
_MIN_SECRET_BYTES = 32


class Mode(enum.StrEnum):
    DEMO = "demo"
    PRODUCTION = "production"


class BlobBackend(enum.StrEnum):
    LOCAL = "local"
    S3 = "s3"


def default_data_dir() -> Path:
    """The embedded default's data directory: $XDG_DATA_HOME/evault or ~/.local/share/evault."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "evault"


class Settings(BaseSettings):
    """Every setting evault reads. Frozen once built."""

    model_config = SettingsConfigDict(
        env_prefix="EVAULT_", extra="forbid", frozen=True, env_nested_delimiter="__"
    )

    mode: Mode = Field(default=Mode.PRODUCTION, description="demo or production (the default)")
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in data_dir"
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="PostgreSQL connections each process keeps open (as many as requests it "
        "serves at once: a connection over the pool is opened and closed per request)",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="base of the QR codes' verification URLs"
    )

    # Blob storage
    blob_backend: BlobBackend = BlobBackend.LOCAL
    blob_dir: Path | None = Field(default=None, description="local blobs; default data_dir/blobs")
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "evault"
    s3_secure: bool = True
    s3_region: str | None = None

    # Secrets for holder data (base64 or hex of 32 random bytes each)
    holder_key: SecretStr | None = Field(default=None, description="AES-256-GCM key, holder IDs")
    blind_index_key: SecretStr | None = Field(default=None, description="HMAC-SHA256 key")
    token_key: SecretStr | None = Field(default=None, description="key signing API tokens")
    # Earlier keys, kept only while `evault keys rotate` moves holder rows to the current
    # ones (comma-separated in the environment, a list in TOML). No defaults in any mode.
    old_holder_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="earlier AES-256-GCM keys: still decrypt, never encrypt"
    )
    old_blind_index_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="earlier HMAC keys: still looked up, never written"
    )

    # Seal and trust. The seal key is a PKCS#12 file or a key in an HSM (PKCS#11).
    seal_pkcs12: Path | None = Field(default=None, description="the vault's seal, PKCS#12 file")
    seal_password: SecretStr | None = None
    seal_pkcs11_module: Path | None = Field(
        default=None, description="PKCS#11 module of the HSM holding the seal key (not PKCS#12)"
    )
    seal_pkcs11_token: str | None = Field(default=None, description="label of the HSM token")
    seal_pkcs11_key: str | None = Field(default=None, description="label of the key on it")
    seal_pkcs11_pin: SecretStr | None = Field(default=None, description="the token's user PIN")
    seal_pkcs11_pin_file: Path | None = Field(
        default=None, description="a file holding the PIN (instead of seal_pkcs11_pin)"
    )
    seal_certificates: Path | None = Field(
        default=None, description="PKCS#11: PEM, the seal certificate then the CAs above it"
    )
    ofd_seal_key: Path | None = Field(
        default=None, description="OFD copies: the vault's SM2 private key (PEM or DER)"
    )
    ofd_seal_certificate: Path | None = Field(
        default=None, description="OFD copies: the certificate of that key (PEM or DER)"
    )
    ofd_seal_esl: Path | None = Field(
        default=None, description="OFD copies: the vault's GB/T 38540 V4 seal (DER, .esl)"
    )
    trust_bundle: Path | None = Field(default=None, description="trust bundle for intake")
    tsa_url: str | None = Field(default=None, description="external RFC 3161 TSA")
    seal_crls: list[Path] = Field(
        default_factory=list,
        description="DER CRLs of the seal's and TSA's chains (B-LT); default: fetched from the"
        " seal certificates' CRL distribution points",
    )
    vault_name: str = Field(default="evault 电子证照库", description="制作者 on certified copies")
    platform_name: str | None = Field(
        default=None,
        max_length=40,
        description="the platform's name in the pages' header, e.g. 福建省电子证照库 "
        "(default: 电子证照库)",
    )
    operator_name: str | None = Field(
        default=None, max_length=80, description="主办单位 in the pages' footer: who runs it"
    )
    log_key: Path | None = Field(
        default=None, description="transparency log's Ed25519 key, PEM; demo: data_dir"
    )
    log_origin: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="the log's origin (its name in checkpoints and key IDs); it must never "
        "change once the log has entries. Default: '<host[:port]><path>/log' of "
        "public_base_url; demo: that of the first run, kept in data_dir",
    )
    witnesses: list[str] = Field(
        default_factory=list,
        description="transparency-log witnesses cosigning each checkpoint (C2SP tlog-witness),"
        " each '<submission URL prefix> <witness vkey>'; JSON list in the environment",
    )
    witness_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="how long to wait for a witness's answer"
    )
    log_pkcs11_module: Path | None = Field(
        default=None, description="PKCS#11 module of the HSM holding the log's Ed25519 key"
    )
    log_pkcs11_token: str | None = Field(default=None, description="label of that HSM token")
    log_pkcs11_key: str | None = Field(default=None, description="label of the log key on it")
    log_pkcs11_pin: SecretStr | None = Field(default=None, description="the token's user PIN")
    log_pkcs11_pin_file: Path | None = Field(
        default=None, description="a file holding the PIN (instead of log_pkcs11_pin)"
    )
    credential_key: Path | None = Field(
        default=None,
        description="the ES256 (P-256) key, PEM, that signs holders' SD-JWT credentials and "
        "their status lists; unset in production: no credentials are issued; demo: generated "
        "under data_dir/keys",
    )
    intake_require_revocation: bool = Field(
        default=True,
        description="refuse a pushed seal whose revocation status is unknown (no valid CRL "
        "or OCSP response in the PDF or the trust bundle)",
    )

    # Limits and defaults
    upload_limit_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    copy_default_days: int = Field(default=30, ge=1)
    copy_max_days: int = Field(default=90, ge=1)
    gc_grace_seconds: int = Field(default=24 * 3600, ge=0)
    checkpoint_interval_seconds: int = Field(
        default=60, ge=0, description="sign a log checkpoint at least this often; 0: on demand"
    )

    # API: department tokens, holder login (OIDC), rate limits
    token_ttl_seconds: int = Field(default=900, ge=30, le=86400, description="department JWTs")
    oidc_issuer: str | None = Field(default=None, description="holders' OIDC provider (iss)")
    oidc_jwks_url: str | None = Field(default=None, description="its JWKS URL")
    oidc_audience: str | None = Field(default=None, description="expected aud of holder tokens")
    oidc_holder_claim: str = Field(default="id_number", description="claim naming the holder ID")
    oidc_client_id: str | None = Field(
        default=None, description="the web pages' client id at the holders' OIDC provider"
    )
    oidc_client_secret: SecretStr | None = Field(default=None, description="its client secret")
    oidc_authorization_url: str | None = Field(
        default=None, description="authorization endpoint; default: from OIDC discovery"
    )
    oidc_token_url: str | None = Field(
        default=None, description="token endpoint; default: from OIDC discovery"
    )
    web_session_idle_seconds: int = Field(
        default=1800,
        ge=60,
        le=86400,
        description="a holder's web session ends after this long without a page request",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="per client, across all workers (shared buckets)"
    )
    rate_limit_burst: int = Field(default=100, ge=1)

    @field_validator("witnesses")
    @classmethod
    def _check_witnesses(cls, value: list[str]) -> list[str]:
        """Each entry is '<http(s) URL prefix> <witness vkey of type 0x04>'."""
        from signing.errors import SigningError
        from signing.transparency.cosignature import CosignatureVerifier

        for spec in value:
            parts = spec.split()
            if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
                raise ValueError(f"{spec!r} is not '<http(s) URL prefix> <witness vkey>'")
            try:
                CosignatureVerifier.from_vkey(parts[1])
            except SigningError as exc:
                raise ValueError(f"{parts[0]}: {exc}") from None
        return value

    @field_validator("old_holder_keys", "old_blind_index_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        """A string is a comma- or space-separated list of keys."""
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("EVAULT_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    # Derived paths ------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'evault.db'}"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def resolved_trust_bundle(self) -> Path | None:
        """The trust bundle for intake and auditors: the setting, or in demo mode the demo's."""
        if self.trust_bundle is not None:
            return self.trust_bundle
        return self.data_dir / "trust-bundle.json" if self.is_demo else None

    @property
    def is_demo(self) -> bool:
        return self.mode is Mode.DEMO

    @property
    def demo_pki_dir(self) -> Path:
        """Where ``evault demo`` keeps its PKI (departments' seals, the vault's, the TSA)."""
        return self.data_dir / "pki"

    @property
    def demo_pki_password_file(self) -> Path:
        """The demo PKI's PKCS#12 password (hex, generated by ``evault demo``)."""
        return self.data_dir / "keys" / "pki_password.hex"

    def seal_key_problem(self) -> str | None:
        """What is wrong with the seal key's settings (the first thing), or None.

        One of EVAULT_SEAL_PKCS12 and EVAULT_SEAL_PKCS11_MODULE (neither: the demo PKI, in
        demo mode only); PKCS#11 needs the token and key labels, EVAULT_SEAL_CERTIFICATES
        and the PIN in exactly one of EVAULT_SEAL_PKCS11_PIN and EVAULT_SEAL_PKCS11_PIN_FILE.
        """
        return self._key_problem(
            what="seal key",
            module=("EVAULT_SEAL_PKCS11_MODULE", self.seal_pkcs11_module),
            file=("EVAULT_SEAL_PKCS12", self.seal_pkcs12),
            needed={
                "EVAULT_SEAL_PKCS11_TOKEN": self.seal_pkcs11_token,
                "EVAULT_SEAL_PKCS11_KEY": self.seal_pkcs11_key,
                "EVAULT_SEAL_CERTIFICATES": self.seal_certificates,
            },
            pins={
                "EVAULT_SEAL_PKCS11_PIN": self.seal_pkcs11_pin,
                "EVAULT_SEAL_PKCS11_PIN_FILE": self.seal_pkcs11_pin_file,
            },
            absent="no seal key: set EVAULT_SEAL_PKCS12 or EVAULT_SEAL_PKCS11_MODULE",
        )

    def _key_problem(
        self,
        *,
        what: str,
        module: tuple[str, Any],
        file: tuple[str, Any],
        needed: dict[str, Any],
        pins: dict[str, Any],
        absent: str,
    ) -> str | None:
        """The first problem of a key given as a file or in an HSM (``module``), or None:
        never both, PKCS#11 with everything ``needed`` and exactly one of ``pins``; neither
        is ``absent`` outside demo mode."""
        module_name, module_value = module
        if module_value is None:
            stray = [name for name, value in {**needed, **pins}.items() if value is not None]
            if stray:
                return f"{stray[0]} is set but {module_name} is not"
            if file[1] is None and not self.is_demo:
                return absent
            return None
        if file[1] is not None:
            return f"{file[0]} and {module_name} are both set: give one {what}"
        missing = [name for name, value in needed.items() if not value]
        if missing:
            return f"{missing[0]} is not set (the PKCS#11 {what} needs it)"
        if sum(value is not None for value in pins.values()) != 1:
            return "give the token's PIN in exactly one of {} and {}".format(*pins)
        return None

    def ofd_seal_problem(self) -> str | None:
        """What is wrong with the OFD seal's settings, or None: all three or none (no OFD
        seal: OFD licenses get no certified copy, except in demo mode)."""
        given = {
            "EVAULT_OFD_SEAL_KEY": self.ofd_seal_key,
            "EVAULT_OFD_SEAL_CERTIFICATE": self.ofd_seal_certificate,
            "EVAULT_OFD_SEAL_ESL": self.ofd_seal_esl,
        }
        missing = [name for name, value in given.items() if value is None]
        if missing and len(missing) < len(given):
            return f"{missing[0]} is not set (the OFD seal needs the key, certificate and seal)"
        return None

    def seal_pin(self) -> str:
        """The seal token's PIN (EVAULT_SEAL_PKCS11_PIN or the file it is in)."""
        return read_pin(self.seal_pkcs11_pin, self.seal_pkcs11_pin_file, "EVAULT_SEAL_PKCS11_PIN")

    def log_pin(self) -> str:
        """The log token's PIN (EVAULT_LOG_PKCS11_PIN or the file it is in)."""
        return read_pin(self.log_pkcs11_pin, self.log_pkcs11_pin_file, "EVAULT_LOG_PKCS11_PIN")

    def log_key_problem(self) -> str | None:
        """What is wrong with the log key's settings (the first thing), or None.

        At most one of EVAULT_LOG_KEY and EVAULT_LOG_PKCS11_MODULE (neither: generated in
        data_dir, in demo mode only); PKCS#11 needs the token and key labels and the PIN in
        exactly one of EVAULT_LOG_PKCS11_PIN and EVAULT_LOG_PKCS11_PIN_FILE.
        """
        return self._key_problem(
            what="log key",
            module=("EVAULT_LOG_PKCS11_MODULE", self.log_pkcs11_module),
            file=("EVAULT_LOG_KEY", self.log_key),
            needed={
                "EVAULT_LOG_PKCS11_TOKEN": self.log_pkcs11_token,
                "EVAULT_LOG_PKCS11_KEY": self.log_pkcs11_key,
            },
            pins={
                "EVAULT_LOG_PKCS11_PIN": self.log_pkcs11_pin,
                "EVAULT_LOG_PKCS11_PIN_FILE": self.log_pkcs11_pin_file,
            },
            absent="EVAULT_LOG_KEY is not set (or EVAULT_LOG_PKCS11_MODULE for an HSM)",
        )

    def check_production(self) -> None:
        """Refuse to run in production with a missing, short or placeholder secret."""
        if self.is_demo:
            return
        problems: list[str] = []
        for name in ("holder_key", "blind_index_key", "token_key"):
            secret: SecretStr | None = getattr(self, name)
            problem = _secret_problem(secret)
            if problem:
                problems.append(f"EVAULT_{name.upper()} {problem}")
        for name in ("old_holder_keys", "old_blind_index_keys"):
            old: list[SecretStr] = getattr(self, name)
            for i, secret in enumerate(old, start=1):
                problem = _secret_problem(secret)
                if problem:
                    problems.append(f"EVAULT_{name.upper()} entry {i} {problem}")
        seal_problem = self.seal_key_problem()
        if seal_problem:
            problems.append(seal_problem)
        ofd_problem = self.ofd_seal_problem()
        if ofd_problem:
            problems.append(ofd_problem)
        log_problem = self.log_key_problem()
        if log_problem:
            problems.append(log_problem)
        if self.credential_key is not None and not self.credential_key.is_file():
            problems.append(f"EVAULT_CREDENTIAL_KEY {self.credential_key} is not a readable file")
        if self.trust_bundle is None:
            problems.append("EVAULT_TRUST_BUNDLE is not set (intake verifies seals against it)")
        if self.tsa_url is None:
            problems.append("EVAULT_TSA_URL is not set (certified copies are timestamped)")
        for name in ("seal_password", "seal_pkcs11_pin", "log_pkcs11_pin"):
            value: SecretStr | None = getattr(self, name)
            if value is not None and _is_placeholder(value):
                problems.append(f"EVAULT_{name.upper()} is a placeholder")
        if self.blob_backend is BlobBackend.S3:
            if not self.s3_endpoint:
                problems.append("EVAULT_S3_ENDPOINT is not set")
            for name in ("s3_access_key", "s3_secret_key"):
                if getattr(self, name) is None:
                    problems.append(f"EVAULT_{name.upper()} is not set")
        if problems:
            raise ConfigError(
                "production mode refuses to start: "
                + "; ".join(problems)
                + " (run `evault demo` for the embedded demo)"
            )


def read_pin(pin: SecretStr | None, pin_file: Path | None, setting: str) -> str:
    """A token's PIN given in ``setting`` or in the file named by ``setting``_FILE (first
    line); :class:`ConfigError` when neither, or the file is unreadable or empty."""
    if pin is not None:
        return pin.get_secret_value()
    if pin_file is None:
        raise ConfigError(f"{setting} is not set (nor {setting}_FILE)")
    try:
        text = pin_file.read_bytes().decode("utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"cannot read {setting}_FILE {pin_file}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{setting}_FILE {pin_file} is not UTF-8 text") from None
    if not text:
        raise ConfigError(f"{setting}_FILE {pin_file} is empty")
    return text


def _is_placeholder(secret: SecretStr) -> bool:
    value = secret.get_secret_value().lower()
    return any(p in value for p in _PLACEHOLDERS)


def _secret_problem(secret: SecretStr | None) -> str | None:
    if secret is None:
        return "is not set"
    if _is_placeholder(secret):
        return "is a placeholder or demo value"
    if len(secret.get_secret_value()) < _MIN_SECRET_BYTES:
        return f"is shorter than {_MIN_SECRET_BYTES} characters"
    return None


def load_settings(**overrides: Any) -> Settings:
    """Build settings from overrides > environment > TOML file (EVAULT_CONFIG) > defaults."""
    config_file = os.environ.get("EVAULT_CONFIG")
    if config_file and not Path(config_file).is_file():
        raise ConfigError(f"EVAULT_CONFIG names {config_file}, which is not a readable file")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
    except SettingsError as exc:  # a value the source could not parse (a list not in JSON)
        found = re.search(r'field "(\w+)"', str(exc))
        name = f"EVAULT_{found.group(1).upper()}" if found else "a setting"
        raise ConfigError(
            f"invalid setting {name}: not parseable (lists and tables are "
            'JSON in the environment, e.g. ["/etc/evault/a.crl"])'
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"EVAULT_CONFIG file {config_file} is not valid TOML: {exc}") from None
