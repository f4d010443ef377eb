"""The schema of the two plan files: pydantic models, used only to validate the YAML.

`lqip.plan` loads a config by validating it against these models, then keeps the plan as the plain
dataclasses of `lqip.plan` (same names, same fields): commands that read a cached plan never import
pydantic (half of lqip's start-up). tests/test_config.py checks both sides list the same fields.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lqip.plan import Aggregation, Kind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanMeta(_Strict):
    title: str
    title_en: str | None = None
    document: str
    issuer: str | None = None
    issued: str | None = None
    region: str
    unit_prefixes: list[str] = Field(default_factory=list)
    years: list[int] = Field(min_length=1)
    end_year: int

    @field_validator("issued", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        return value if value is None or isinstance(value, str) else str(value)


class Measure(_Strict):
    whole: bool = False


class Indicator(_Strict):
    id: str = Field(pattern=r"^[A-Z]\d{2,}$")
    name: str
    name_en: str
    aliases: list[str] = Field(default_factory=list)
    unit: str
    unit_aliases: list[str] = Field(default_factory=list)
    kind: Kind
    aggregation: Aggregation = Aggregation.SINGLE
    targets: dict[int, float] = Field(default_factory=dict)
    total: float
    total_source: str | None = None
    tasks: list[str] = Field(min_length=1)
    weight: float = Field(default=1.0, ge=0)


class TaskTarget(_Strict):
    indicator: str
    targets: dict[int, float] = Field(default_factory=dict)
    total: float | None = None


class Task(_Strict):
    id: str = Field(pattern=r"^[A-Z]\d{2,}$")
    content: str
    leads: list[str] = Field(min_length=1)
    co_units: list[str] = Field(default_factory=list)
    target: TaskTarget | None = None


class KeyWork(_Strict):
    id: str
    name: str
    tasks: list[Task] = Field(min_length=1)


class Project(_Strict):
    id: str
    name: str
    key_works: list[KeyWork] = Field(min_length=1)


class Unit(_Strict):
    name: str
    name_en: str | None = None
    aliases: list[str] = Field(default_factory=list)
    collective: bool = False
    members: str | None = None  # regex a member's name matches (collectives only)

    @field_validator("members")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class TargetsFile(_Strict):
    plan: PlanMeta
    measures: dict[str, Measure]
    indicators: list[Indicator] = Field(min_length=1)


class ResponsibilitiesFile(_Strict):
    units: list[Unit] = Field(min_length=1)
    projects: list[Project] = Field(min_length=1)
