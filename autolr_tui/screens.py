"""Modal screens: export, confirm quit, help."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, RadioButton, RadioSet

from engine.export import FORMATS

MODAL_CSS = """
ModalScreen { align: center middle; }
ModalScreen > Vertical { width: 70; height: auto; max-height: 90%; border: thick $primary; padding: 1 2;
    background: $surface; }
ModalScreen Horizontal { height: auto; }
ModalScreen Button { margin: 1 1 0 0; }
"""


class ExportScreen(ModalScreen[tuple[str, str] | None]):
    """Ask where (and in which format) to export; dismisses with (path, format) or None."""

    CSS = MODAL_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, default_path: Path) -> None:
        super().__init__()
        self.what = what
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Export {self.what}")
            with RadioSet(id="format"):
                for fmt in FORMATS:
                    yield RadioButton(fmt, value=fmt == "py", id=f"fmt-{fmt}")
            yield Input(str(self.default_path), id="path")
            with Horizontal():
                yield Button("Export", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @property
    def format(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return str(pressed.label) if pressed else "py"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        path = self.query_one("#path", Input)
        path.value = str(Path(path.value).with_suffix(f".{self.format}"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss((event.value, self.format))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((self.query_one("#path", Input).value, self.format) if event.button.id == "ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    CSS = MODAL_CSS
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


HELP = """\
# autolr-tui

Evolves learning-rate schedules for your network (AutoLR) and trains each one for real.

| key | what it does |
| --- | --- |
| `g` | start the experiment (or continue one opened from its store) |
| `p` | pause / resume: training halts at the next epoch boundary |
| `s` | stop: the training in progress ends within an epoch; the run stays resumable |
| `e` | export the selected policy (results pane), else the best |
| `1` `2` `3` | the run, results and config panes |
| `tab` / `shift+tab` | move between panels |
| `q` | quit (asks while a run is going; stops the engine and its workers) |
| `ctrl+p` | command palette with the same commands |
| `?` | this help |

Fitness is test accuracy after training, or a surrogate in a dry run (said in the header).
"""


class HelpScreen(ModalScreen[None]):
    CSS = MODAL_CSS
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Markdown(HELP)
            yield Button("Close (esc)", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
