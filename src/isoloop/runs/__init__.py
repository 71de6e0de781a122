"""Coordinators that run backtests, sweeps and live containers."""

__all__: list[str] = []
