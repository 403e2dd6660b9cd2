"""accounts.throttle: back-off per (user name, address) and per address, the hourly rates."""

from accounts import throttle

T0 = 1_000_000.0


def fail(times: int, username="alice", address="203.0.113.1", now=T0) -> None:
    for _ in range(times):
        assert throttle.login_attempt_start(username, address, now=now) == 0
        throttle.login_attempt_failed(username, address, now=now)


def test_back_off_doubles_with_each_failure_up_to_the_window(db, settings):
    settings.LOGIN_ATTEMPTS, settings.LOGIN_BACKOFF_SECONDS = 3, 30
    settings.LOGIN_ATTEMPTS_WINDOW = 200
    fail(2)
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0) == 0  # 2 failures: free
    throttle.login_attempt_failed("alice", "203.0.113.1", now=T0)
    waits, now = [], T0
    for _ in range(4):
        wait = throttle.login_attempt_start("alice", "203.0.113.1", now=now)
        waits.append(wait)
        now += wait
        fail(1, now=now)
    assert waits == [30, 60, 120, 200]


def test_a_try_during_the_wait_is_refused_and_not_counted(db, settings):
    settings.LOGIN_ATTEMPTS, settings.LOGIN_BACKOFF_SECONDS = 2, 30
    fail(2)
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0 + 10) == 20
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0 + 31) == 0


def test_other_addresses_are_not_slowed_by_an_attackers_failures(db, settings):
    settings.LOGIN_ATTEMPTS = 2
    fail(2, address="198.51.100.66")
    assert throttle.login_attempt_start("alice", "198.51.100.66", now=T0) > 0
    assert throttle.login_attempt_start("Alice", "203.0.113.1", now=T0) == 0


def test_user_name_letter_case_shares_the_pair(db, settings):
    settings.LOGIN_ATTEMPTS = 2
    fail(1, username="alice")
    fail(1, username="ALICE ")
    assert throttle.login_attempt_start("Alice", "203.0.113.1", now=T0) == 30


def test_success_forgets_the_pair_but_not_the_address(db, settings):
    settings.LOGIN_ATTEMPTS, settings.LOGIN_ADDRESS_ATTEMPTS = 2, 3
    fail(1, username="alice")
    fail(1, username="bob")
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0) == 0
    throttle.login_attempt_succeeded("alice", "203.0.113.1")
    fail(1, username="alice")  # one failure again, not two
    assert throttle.login_attempt_start("carol", "203.0.113.1", now=T0) == 30  # 3 for the address


def test_concurrent_attempts_for_one_pair_wait_their_turn(db):
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0) == 0
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0) == 1
    assert throttle.login_attempt_start("alice", "203.0.113.2", now=T0) == 0
    throttle.login_attempt_failed("alice", "203.0.113.1", now=T0)
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0) == 0


def test_user_name_ceiling_is_off_by_default(db, settings):
    assert settings.LOGIN_USERNAME_CEILING == 0
    for i in range(30):
        fail(1, address=f"198.51.100.{i}")
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0) == 0


def test_user_name_ceiling_refuses_every_address_when_set(db, settings):
    settings.LOGIN_USERNAME_CEILING, settings.LOGIN_ATTEMPTS_WINDOW = 5, 900
    for i in range(5):
        fail(1, address=f"198.51.100.{i}")
    assert throttle.login_attempt_start("alice", "203.0.113.1", now=T0 + 100) == 800


def test_rate_attempt_refuses_past_the_hourly_limit(db):
    now = 3600 * 500 + 600.0  # ten minutes into a clock hour
    assert [throttle.rate_attempt("signup", "203.0.113.1", per_hour=2, now=now)
            for _ in range(3)] == [0, 0, 3000]
    assert throttle.rate_attempt("signup", "203.0.113.2", per_hour=2, now=now) == 0
    assert throttle.rate_attempt("reset", "203.0.113.1", per_hour=2, now=now) == 0
