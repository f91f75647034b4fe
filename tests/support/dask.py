"""A real Dask cluster for tests: a ``LocalCluster`` of two worker processes (one thread
each) on the loopback interface, shared by the session. Its workers get dummy AWS
credentials, as the moto S3 server of :mod:`support.s3` expects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

TEST_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """The cluster; ``dask_cluster.scheduler_address`` is what KILO_EXECUTOR names."""
    import logging

    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env=dict(TEST_AWS_ENV),
    )
    try:
        yield cluster
    finally:
        cluster.close()
