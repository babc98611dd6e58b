"""Rules as code: YAML rule sets with dated parameters, compiled to one vectorised SQL query."""

from wugan.errors import RuleError
from wugan.rules.loader import ROUTES, Outcome, RuleSet, load_all, load_ruleset, ruleset_names
from wugan.rules.params import Parameter, load_parameter

__all__ = [
    "ROUTES",
    "Outcome",
    "Parameter",
    "RuleError",
    "RuleSet",
    "load_all",
    "load_parameter",
    "load_ruleset",
    "ruleset_names",
]
