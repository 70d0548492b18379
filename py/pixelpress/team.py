"""Team and roster option types shared by the team-asset operations.

Players and colour lists are nested values, so they are plain dataclass
fields (no option metadata) that `validate()` checks; errors name the exact
field, e.g. `players[3].number` or `colors[1]`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import InvalidOption
from .options import choice, colour, integer, items, parse_colour, text

MAX_PLAYERS = 40
MAX_NAME = 40
NUMBERS = (0, 99)  # shirt numbers
MAX_COLORS = 4


@dataclass(frozen=True)
class Player:
    number: int
    name: str


# The shapes of the list-valued team options, for the schema the page's forms read.
COLOUR_ITEM = {"kind": "colour"}
PLAYER_ITEM = {"kind": "object", "fields": [
    {"name": "number", "kind": "int", "min": NUMBERS[0], "max": NUMBERS[1], "doc": "Shirt number."},
    {"name": "name", "kind": "text", "max_len": MAX_NAME, "required": True, "doc": "Player name."}]}


def colour_list(doc: str):
    return items(COLOUR_ITEM, MAX_COLORS, doc)


def player_list(doc: str, *, min_items: int = 0):
    return items(PLAYER_ITEM, MAX_PLAYERS, doc, min_items=min_items)


def parse_player(raw, i: int, field: str = "players") -> Player:
    where = f"{field}[{i}]"
    if isinstance(raw, Player):
        raw = dataclasses.asdict(raw)
    if not isinstance(raw, Mapping):
        raise InvalidOption(f"{where} must be an object with number and name, got {raw!r}", field=where)
    unknown = sorted(set(raw) - {"number", "name"})
    if unknown:
        raise InvalidOption(f"{where} has an unknown key {unknown[0]!r}", field=f"{where}.{unknown[0]}")
    number = raw.get("number")
    lo, hi = NUMBERS
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, str) and number.strip().isdigit():
        number = int(number.strip())
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidOption(f"{where}.number must be a whole number from {lo} to {hi}, got {number!r}",
                            field=f"{where}.number")
    if not lo <= number <= hi:
        raise InvalidOption(f"{where}.number must be between {lo} and {hi}, got {number}", field=f"{where}.number")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidOption(f"{where}.name is required", field=f"{where}.name")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise InvalidOption(f"{where}.name must be at most {MAX_NAME} characters, got {len(name)}",
                            field=f"{where}.name")
    return Player(number, name)


def parse_players(raw, field: str = "players", *, min_count: int = 0) -> tuple[Player, ...]:
    if raw is None:
        raw = ()
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        raise InvalidOption(f"{field} must be a list of {{number, name}} objects", field=field)
    if len(raw) > MAX_PLAYERS:
        raise InvalidOption(f"{field}: at most {MAX_PLAYERS} players, got {len(raw)}", field=field)
    if len(raw) < min_count:
        raise InvalidOption(f"{field}: at least {min_count} player is needed", field=field)
    return tuple(parse_player(p, i, field) for i, p in enumerate(raw))


def parse_colors(raw, field: str = "colors") -> tuple[str, ...]:
    """A list of up to MAX_COLORS hex colours, normalised to '#rrggbb'."""
    if raw is None:
        return ()
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise InvalidOption(f"{field} must be a list of hex colours like [\"#0b3d91\", \"#ffd700\"]", field=field)
    if len(raw) > MAX_COLORS:
        raise InvalidOption(f"{field}: at most {MAX_COLORS} colours, got {len(raw)}", field=field)
    return tuple(to_hex(parse_colour(c, f"{field}[{i}]")) for i, c in enumerate(raw))


def to_hex(rgb) -> str:
    r, g, b = (int(round(v)) for v in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return parse_colour(hex_colour)


@dataclass(frozen=True)
class TeamOptions:
    """Everything the asset pack needs besides the logo bytes."""

    team_name: str = text("", 40, "Team name (required).", required=True)
    sport: str = text("", 30, "Sport, e.g. Football.")
    shirt_color: str = colour("#ffffff", "T-shirt colour.")
    featured_player: int | None = integer(None, *NUMBERS, "Number of the player on the shirt back; "
                                                            "default the first player.", optional=True)
    palette: int = integer(0, 0, 16, "Reduce the cleaned logo to this many colours (0 = off).")
    background: str = choice("auto", ("auto", "keep"), "auto: remove the logo's flat background; "
                                                         "keep: use the logo as it is.")
    colors: tuple = colour_list("Team colours, most important first; default: the logo's own.")
    players: tuple = player_list("The roster: shirt number and name.")

    def validate(self) -> None:
        object.__setattr__(self, "colors", parse_colors(self.colors, "colors"))
        object.__setattr__(self, "players", parse_players(self.players, "players"))
        if self.featured_player is not None and self.players and \
                self.featured_player not in {p.number for p in self.players}:
            raise InvalidOption(f"featured_player {self.featured_player} is not a number in players",
                                field="featured_player")

    def featured(self) -> Player | None:
        for p in self.players:
            if self.featured_player is None or p.number == self.featured_player:
                return p
        return None


# --- colour roles -------------------------------------------------------

def luminance(c) -> float:
    """WCAG relative luminance of an (r, g, b) 0-255 colour."""
    def ch(v):
        v = v / 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (ch(v) for v in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))


def distance(a, b) -> float:
    return sum((a[i] - b[i]) ** 2 for i in range(3)) ** 0.5


WHITE = (255, 255, 255)
INK = (17, 20, 24)


@dataclass(frozen=True)
class TeamPalette:
    primary: tuple  # backgrounds
    secondary: tuple  # accents (number badges, stripes)
    on_primary: tuple  # text on primary
    on_secondary: tuple  # text on secondary
    accent_on_primary: tuple  # an accent that reads on primary (secondary if it contrasts)
    dark: tuple  # a deeper shade of primary


def team_palette(colors) -> TeamPalette:
    """Colour roles from the team colours (hex or rgb, most important first).

    The primary is the first colour dark or saturated enough to carry white
    text; the secondary the next clearly different one. Missing colours are
    filled with navy / gold so any input gives a usable scheme.
    """
    cs = [rgb(c) if isinstance(c, str) else tuple(c) for c in colors]
    primary = None
    for c in cs:
        if contrast(c, WHITE) >= 3.0 or (contrast(c, INK) >= 3.0 and _chroma(c) > 60):
            primary = c
            break
    if primary is None:
        primary = cs[0] if cs and contrast(cs[0], WHITE) >= 2.0 else (11, 37, 69)
    secondary = None
    for c in cs:
        if distance(c, primary) > 90:
            secondary = c
            break
    if secondary is None:
        secondary = (255, 199, 44) if luminance(primary) < 0.4 else INK
    on_primary = WHITE if contrast(primary, WHITE) >= contrast(primary, INK) else INK
    on_secondary = WHITE if contrast(secondary, WHITE) >= contrast(secondary, INK) else INK
    accent = secondary if contrast(secondary, primary) >= 2.0 else on_primary
    # a deep shade for side panels; light primaries (gold, sky) get a near-black panel instead
    dark = mix(primary, (0, 0, 0), 0.35) if luminance(primary) < 0.3 else mix(primary, INK, 0.85)
    return TeamPalette(primary, secondary, on_primary, on_secondary, accent, dark)


def _chroma(c) -> int:
    return max(c[:3]) - min(c[:3])
