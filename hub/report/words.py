"""The report's words for canonical values and health reasons (message ids of the catalogues)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.report.i18n import Language


def N_(message: str) -> str:  # gettext's conventional name for "mark only"
    """Mark a message for the catalogue; it is translated where it is shown."""
    return message


STATUS = {"todo": N_("To do"), "in_progress": N_("In progress"), "blocked": N_("Blocked"),
          "done": N_("Done"), "cancelled": N_("Cancelled")}
PRIORITY = {"lowest": N_("Lowest"), "low": N_("Low"), "medium": N_("Medium"), "high": N_("High"),
            "highest": N_("Highest")}
KIND = {"task": N_("Task"), "bug": N_("Bug"), "story": N_("Story"), "epic": N_("Epic"),
        "requirement": N_("Requirement"), "change_request": N_("Change request"), "risk": N_("Risk"),
        "feedback": N_("Feedback")}
HEALTH = {"on_track": N_("On track"), "at_risk": N_("At risk"), "late": N_("Late"), "done": N_("Done")}
REASONS = {
    "milestone_late": N_("Milestone %(name)s is past its due date (%(due)s) with work open."),
    "milestone_slipping": N_("Milestone %(name)s is forecast %(days)s days after its due date."),
    "milestone_at_risk": N_("Milestone %(name)s may not finish by its due date."),
    "overdue_items": N_("%(count)s items are past their due date."),
    "blocked_items": N_("%(count)s items have been blocked for %(days)s days or more."),
    "high_risks": N_("%(count)s high-priority risks are open."),
}


def word(table: Mapping[str | None, str] | Mapping[str, str], value: str | None, lang: Language) -> str:
    if value is None:
        return "-"
    found = table.get(value)
    return lang.gettext(found) if found else value


def reason_text(code: str, values: Mapping[str, Any], lang: Language) -> str:
    shown = {k: lang.day(v) if hasattr(v, "isoformat") else v for k, v in values.items()}
    return lang.gettext(REASONS[code]) % shown
