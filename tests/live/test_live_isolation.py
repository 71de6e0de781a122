"""Three strategies side by side: a raising one, a blocking one and a healthy one."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.live import LiveTradingManager
from support.live_helpers import live_config, rows, state_of, strategy, wait_for

pytestmark = pytest.mark.live

BARS = 400


def test_crash_and_hang_do_not_touch_the_healthy_container(tmp_path: Path) -> None:
    release = tmp_path / "release"
    together = tmp_path / "together"
    cfg = live_config(
        together,
        [
            strategy("healthy"),
            strategy(
                "raiser",
                "support.live_strategies:RaiseEveryTenth",
                {"fast": 5, "slow": 20, "from_bar": 100},
            ),
            strategy(
                "blocker",
                "support.live_strategies:BlockingModel",
                {"fast": 5, "slow": 20, "block_bar": 50, "release": str(release), "max_block": 120},
            ),
        ],
        bars=BARS,
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        # The healthy container gets through the whole replay while the blocker is
        # still stuck in its model call: the feed and the peers never waited for it.
        wait_for(lambda: state_of(m, "healthy")["last_bar"] == BARS - 1, what="healthy done")
        blocked = state_of(m, "blocker")
        assert blocked["state"] == "running"
        assert blocked["last_bar"] < 50
        release.write_text("go")
        assert m.wait_settled(120)
        st = m.get_state()["strategies"]
    assert st["healthy"]["state"] == "running"
    assert st["healthy"]["errors"] == 0 and st["healthy"]["restarts"] == 0, st["healthy"]
    # The raising container was restarted per policy (max 2) and then stayed failed.
    raiser = m.get_state()["strategies"]["raiser"]
    assert raiser["state"] == "failed"
    assert raiser["restarts"] == 2
    assert "model blew up at bar 100" in raiser["error"]
    assert raiser["last_bar"] == 99
    # The blocker finished once its model call returned.
    assert st["blocker"]["last_bar"] == BARS - 1

    alone_dir = tmp_path / "alone"
    with LiveTradingManager(live_config(alone_dir, [strategy("healthy")], bars=BARS)) as solo:
        solo.start()
        assert solo.wait_settled(120)

    healthy, alone = rows(together, "healthy"), rows(alone_dir, "healthy")
    assert healthy["orders"] and healthy["fills"]
    assert healthy["orders"] == alone["orders"]
    assert healthy["fills"] == alone["fills"]
    assert healthy["positions"] == alone["positions"] and healthy["cash"] == alone["cash"]
    # Same strategy and parameters, separate sub-accounts: the blocker ends where the
    # healthy one does, and the raiser's history is the healthy one's up to bar 99.
    blocker = rows(together, "blocker")
    assert blocker["orders"] == healthy["orders"] and blocker["fills"] == healthy["fills"]
    raiser_rows = rows(together, "raiser")
    assert raiser_rows["fills"] == [f for f in healthy["fills"] if f["bar"] <= 99]

    def placed(orders: list[dict]) -> list[tuple]:
        return [(o["id"], o["side"], o["submitted_bar"]) for o in orders]

    assert placed(raiser_rows["orders"]) == placed(
        [o for o in healthy["orders"] if o["submitted_bar"] <= 99]
    )


def test_recoverable_errors_are_retried_with_backoff(tmp_path: Path) -> None:
    cfg = live_config(
        tmp_path,
        [
            strategy("plain"),
            strategy(
                "flaky",
                "support.live_strategies:RecoverOnce",
                {"fast": 5, "slow": 20, "at_bar": 30},
            ),
        ],
        bars=120,
        retry_backoff=0.01,
    )
    with LiveTradingManager(cfg) as m:
        m.start()
        assert m.wait_settled(60)
        flaky = state_of(m, "flaky")
    assert flaky["errors"] == 2
    assert flaky["restarts"] == 0
    assert flaky["state"] == "running"
    assert rows(tmp_path, "flaky")["fills"] == rows(tmp_path, "plain")["fills"]


def test_add_and_remove_strategies_while_running(tmp_path: Path) -> None:
    with LiveTradingManager(live_config(tmp_path, [strategy("first")], bars=200)) as m:
        m.start()
        m.add_strategy(strategy("second", params={"fast": 10, "slow": 40}))
        states: list[tuple[str, str]] = []
        m.register_hook("state", lambda e: states.append((e.strategy, e.data["new"])))
        assert m.wait_settled(60)
        # A strategy added after the feed started is backfilled: it sees every bar.
        assert state_of(m, "second")["last_bar"] == 199
        m.remove_strategy("first")
        assert set(m.get_state()["strategies"]) == {"second"}
        assert m.hooks.wait_idle(30)
    assert ("first", "stopped") in states
    assert rows(tmp_path, "second")["fills"]
