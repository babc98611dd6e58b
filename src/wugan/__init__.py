"""wugan (无感): proactive government services sensed from shared department data."""

__version__ = "0.1.0"
