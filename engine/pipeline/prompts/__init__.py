"""Every prompt the pipeline sends, as named text templates kept in this folder.

A template file is `NAME.txt`: a `version: N` line, a `---` line, then the body with
`$variables` (Python's `string.Template`: write `$$` for a literal dollar sign). A person can
override any template with a file of the same name in
`platformdirs.user_config_dir("atlas-tui")/prompts/` (or another folder named in the config);
every generation event records the template's name and version, so a run can be explained and
compared. A user's file that has no version line is versioned by a hash of its text.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from pathlib import Path

import platformdirs

BUILTIN_DIR = Path(__file__).resolve().parent

NAMES = (
    "system",
    "probe",
    "constraints",
    "plan",
    "implement",
    "diversity",
    "differential_inputs",
    "adjudicate",
    "selftest",
    "repair",
)


class TemplateError(ValueError):
    """A template is missing, malformed, or was rendered without one of its variables."""


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    name: str
    version: str  # "1" for a built-in; "user:<version>" for a user's override
    body: str
    path: str

    def render(self, **variables: object) -> str:
        try:
            return string.Template(self.body).substitute({k: str(v) for k, v in variables.items()})
        except KeyError as exc:
            raise TemplateError(
                f"prompt template {self.name!r} ({self.path}) needs variable {exc.args[0]!r}"
            ) from None
        except ValueError as exc:
            raise TemplateError(f"prompt template {self.name!r} ({self.path}): {exc}") from None


def user_prompts_dir() -> Path:
    return Path(platformdirs.user_config_dir("atlas-tui")) / "prompts"


def load_template(name: str, override_dir: Path | None = None) -> PromptTemplate:
    """The user's override of `name` if there is one, else the built-in template."""
    if name not in NAMES:
        raise TemplateError(f"unknown prompt template {name!r}; known: {', '.join(NAMES)}")
    user_file = (override_dir or user_prompts_dir()) / f"{name}.txt"
    if user_file.is_file():
        version, body = _parse(user_file)
        return PromptTemplate(name, f"user:{version}", body, str(user_file))
    builtin = BUILTIN_DIR / f"{name}.txt"
    version, body = _parse(builtin)
    return PromptTemplate(name, version, body, str(builtin))


def load_all(override_dir: Path | None = None) -> dict[str, PromptTemplate]:
    """Every template, loaded once per run so a run uses one consistent set."""
    return {name: load_template(name, override_dir) for name in NAMES}


def _parse(path: Path) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    if sep and head.strip().startswith("version:"):
        return head.strip().removeprefix("version:").strip() or "0", body.strip("\n")
    # No header (a user's quick edit): the text is the body; its hash tells versions apart.
    return hashlib.sha256(text.encode()).hexdigest()[:8], text.strip("\n")
