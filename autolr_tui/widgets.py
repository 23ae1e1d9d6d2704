"""The app's panels."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static

from engine.config import SECTIONS, Config, ConfigError, build_config

from . import charts
from .headless import short


class Chart(Widget):
    """A plotext chart redrawn at the widget's size."""

    DEFAULT_CSS = "Chart { height: 1fr; min-height: 6; }"

    def __init__(self, kind: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.data: tuple = ()

    def show(self, *data) -> None:
        self.data = data
        self.refresh()

    def render(self) -> Text:
        # plotext draws a column and a row past the size it is given
        w, h = self.content_size.width - 2, self.content_size.height - 1
        if not self.data or w < 20 or h < 6:
            return Text("no data yet" if not self.data else "", style="dim")
        if self.kind == "schedule":
            rates, stopped, title = self.data
            return Text.from_ansi(charts.schedule_chart(rates, stopped, w, h, title))
        best, mean = self.data
        return Text.from_ansi(charts.fitness_chart(best, mean, w, h))


class GenerationTable(DataTable):
    """A row per individual of the current generation, updated in place."""

    COLUMNS = (("#", "idx", 3), ("policy", "policy", 0), ("status", "status", 13), ("fitness", "fitness", 7),
               ("cache", "cache", 5), ("s", "seconds", 6))

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        # the policy takes what the other columns (and their padding) leave of the screen
        self.policy_width = max(16, self.app.size.width - sum(w + 2 for _, _, w in self.COLUMNS) - 4)
        for label, key, width in self.COLUMNS:
            self.add_column(label, key=key, width=width or self.policy_width)

    def new_generation(self, phenotypes: Sequence[str]) -> None:
        self.clear()
        for i, p in enumerate(phenotypes):
            self.add_row(str(i + 1), short(p, self.policy_width), "waiting", "", "", "", key=str(i))

    def set(self, index: int, **cells: str) -> None:
        if str(index) not in self.rows:
            return
        for key, value in cells.items():
            self.update_cell(str(index), key, value)

    def selected_index(self) -> int | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None


_ERROR_KEY = re.compile(r"([a-z_]+\.[a-z_]+): (.*)$")


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class ConfigForm(VerticalScroll):
    """Every config key as a field, validated by the same rules as the config file."""

    class Changed(Message):
        def __init__(self, config: Config | None) -> None:
            super().__init__()
            self.config = config

    DEFAULT_CSS = """
    ConfigForm .row { height: 1; }
    ConfigForm .key { width: 30; }
    ConfigForm Input { width: 24; height: 1; }
    ConfigForm .error { color: $error; width: 1fr; padding: 0 0 0 1; height: 1; }
    ConfigForm .section { text-style: bold; margin: 1 0 0 0; }
    ConfigForm .hint { color: $text-muted; }
    """

    def __init__(self, config: Config, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config: Config | None = config
        self._initial = config.to_dict()
        self._checked: list[str] = []  # the field values last validated

    def compose(self) -> ComposeResult:
        yield Label("Edit, then ctrl+g starts. Values as in TOML: 10, 0.01, true, denser.", classes="hint")
        for section, cls in SECTIONS.items():
            yield Label(Text(f"[{section}]"), classes="section")
            for f in fields(cls):
                key = f"{section}.{f.name}"
                with Horizontal(classes="row"):
                    yield Label(key, classes="key")
                    yield Input(_text(self._initial[section][f.name]), id=f"cfg-{section}-{f.name}",
                                tooltip=f.metadata["help"], compact=True)
                    yield Static("", id=f"err-{section}-{f.name}", classes="error")

    def set_editable(self, editable: bool) -> None:
        for inp in self.query(Input):
            inp.disabled = not editable

    def overrides(self) -> list[str]:
        return [f"{inp.id.removeprefix('cfg-').replace('-', '.', 1)}={inp.value}" for inp in self.query(Input)]

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        overrides = self.overrides()
        if overrides == self._checked:  # e.g. every field reporting its first value at mount
            return
        self._checked = overrides
        for err in self.query(".error"):
            err.update("")
        try:
            self.config = build_config(overrides=overrides)
        except ConfigError as exc:
            self.config = None
            m = _ERROR_KEY.search(str(exc))
            key, message = (m.group(1), m.group(2)) if m else ("", str(exc))
            target = self.query(f"#err-{key.replace('.', '-')}") if key else None
            if target:
                target.first().update(message)
            else:
                self.query(".error").first().update(str(exc))
        self.post_message(self.Changed(self.config))
