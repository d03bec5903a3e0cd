"""Automatic screening of a candidate against a recruitment's minimum requirements,
with the reason for each check ("3 years of experience, 5 required").

Pure (no database): :func:`screen` takes the requirements and the candidate's facts and
returns the verdict with one line per requirement, so the page, the API and the tests
show the same words. Desirable languages are reported but never screen anyone out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jof.hr.models import EDUCATION_LEVELS


@dataclass(frozen=True)
class Check:
    requirement: str  #: education, experience, language or desirable_language
    met: bool
    reason: str
    #: The facts the reason is made of, for pages that word it in the reader's language
    #: (``hr_check`` in jof/hr/views.py): the candidate's education code or years, what is
    #: required, the language's name.
    has: str | int = ""
    needs: str | int = ""
    name: str = ""


@dataclass(frozen=True)
class Screening:
    meets_requirements: bool
    checks: tuple[Check, ...]

    @property
    def reasons(self) -> list[str]:
        """The reasons of the checks that failed (empty when the candidate meets them all)."""
        return [c.reason for c in self.checks if not c.met]


def _norm(names: Sequence[str]) -> dict[str, str]:
    return {n.strip().casefold(): n.strip() for n in names if n and n.strip()}


def _years(n: int) -> str:
    return f"{n} year" if n == 1 else f"{n} years"


def screen(*, min_education: str, min_years: int, required_languages: Sequence[str],
           desirable_languages: Sequence[str], education: str, years: int,
           languages: Sequence[str]) -> Screening:
    checks = []
    has = EDUCATION_LEVELS.index(education)
    needs = EDUCATION_LEVELS.index(min_education)
    checks.append(Check("education", has >= needs,
                        f"education: {education}, {min_education} required" if has < needs
                        else f"education: {education}, {min_education} required: met",
                        has=education, needs=min_education))
    checks.append(Check("experience", years >= min_years,
                        f"{_years(years)} of experience, {min_years} required" if years < min_years
                        else f"{_years(years)} of experience, {min_years} required: met",
                        has=years, needs=min_years))
    spoken = _norm(languages)
    for key, name in _norm(required_languages).items():
        met = key in spoken
        checks.append(Check("language", met, f"speaks {name}: required" + (": met" if met else ", not spoken"),
                            name=name))
    for key, name in _norm(desirable_languages).items():
        met = key in spoken
        checks.append(Check("desirable_language", True,
                            f"speaks {name}: desirable" + (": met" if met else ", not spoken"), name=name,
                            has=int(met)))
    return Screening(all(c.met for c in checks), tuple(checks))


def screen_application(recruitment, candidate) -> Screening:
    return screen(min_education=recruitment.min_education, min_years=recruitment.min_years_experience,
                  required_languages=recruitment.required_languages or [],
                  desirable_languages=recruitment.desirable_languages or [],
                  education=candidate.education, years=candidate.years_experience,
                  languages=candidate.languages or [])
