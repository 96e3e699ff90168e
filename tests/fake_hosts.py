"""The fakes of the task-API hosts, Runflow and BytePlus ModelArk, and what they share."""

from tests.fake_ark import FakeArk
from tests.fake_runflow import FakeRunflow
from tests.fake_task_host import LAST_FRAME, FakeHost, Step

__all__ = ["LAST_FRAME", "FakeArk", "FakeHost", "FakeRunflow", "Step"]
