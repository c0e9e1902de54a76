"""Every error a client can see, with its HTTP status, TaurusDB error code and messages.

One root class; each subclass carries its code and default messages in English and Chinese,
so the HTTP layer maps any of them to a response in one place.
"""

from __future__ import annotations

from typing import ClassVar, overload


class TaskcenterError(Exception):
    """Failed to process the request."""

    http_status: ClassVar[int] = 400
    error_code: ClassVar[str] = "DBS.213002"
    message_en: ClassVar[str] = "Failed to process the request."
    message_zh: ClassVar[str] = "处理请求失败。"

    # A detail comes in both languages or not at all: an English detail alone would follow the
    # Chinese prefix in a zh-cn answer (mypy --strict holds every raise to this).
    @overload
    def __init__(self) -> None: ...
    @overload
    def __init__(self, detail: str, detail_zh: str) -> None: ...
    def __init__(self, detail: str = "", detail_zh: str = "") -> None:
        super().__init__(detail or self.message_en)
        self.detail = detail
        self.detail_zh = detail_zh

    def message(self, language: str = "en-us") -> str:
        if language == "zh-cn":
            return self.message_zh + (f" {self.detail_zh}" if self.detail_zh else "")
        return self.message_en + (f" {self.detail}" if self.detail else "")


class InvalidParameter(TaskcenterError):
    """A request parameter is missing or malformed; the detail names it."""

    error_code = "DBS.200001"
    message_en = "Parameter error."
    message_zh = "参数错误。"


class JobNotFound(TaskcenterError):
    """Unknown job, a job of another project, or one past retention: deliberately one answer."""

    error_code = "DBS.200543"
    message_en = "The job does not exist."
    message_zh = "任务不存在。"

    def __init__(self) -> None:
        # Never carries a detail: the three causes must be indistinguishable.
        super().__init__()


class JobNotFinished(TaskcenterError):
    """Only the record of a finished job may be deleted."""

    error_code = "DBS.200001"
    message_en = "Parameter error."
    message_zh = "参数错误。"

    def __init__(self) -> None:
        super().__init__("Only a finished job's record can be deleted.", "只能删除已结束任务的记录。")


class AuthenticationFailed(TaskcenterError):
    """Rejected before the service, as the cloud's API gateway does."""

    http_status = 401
    error_code = "APIGW.0301"
    message_en = "Incorrect IAM authentication information:"
    message_zh = "IAM认证信息错误:"


class KeystoneUnauthorized(TaskcenterError):
    """The Keystone endpoint's own answer for bad user credentials."""

    http_status = 401
    error_code = "IAM.0002"
    message_en = "The username or password is wrong."
    message_zh = "用户名或密码错误。"


class NotAuthorized(TaskcenterError):
    """A valid credential used outside its project, or without the role the call needs."""

    http_status = 403
    error_code = "DBS.200010"
    message_en = "The operation is not authorized."
    message_zh = "操作未授权。"


class IllegalTransition(TaskcenterError):
    """A status change the job's current status does not allow (final statuses are final)."""

    http_status = 409
    error_code = "TASKCENTER.409001"
    message_en = "Illegal job status transition."
    message_zh = "非法的任务状态变更。"

    def __init__(self, current: str, target: str | None = None) -> None:
        if target is None:
            super().__init__(
                f"A {current} job is final and cannot change.",
                f"{current} 状态的任务已结束，不能再修改。",
            )
        else:
            super().__init__(
                f"A {current} job cannot become {target}.",
                f"{current} 状态的任务不能变为 {target}。",
            )
        self.current = current
        self.target = target


class JobConflict(TaskcenterError):
    """The job changed while the request was being applied; the client may retry."""

    http_status = 409
    error_code = "TASKCENTER.409002"
    message_en = "The job was changed concurrently; retry the request."
    message_zh = "任务被并发修改，请重试。"


class RouteNotFound(TaskcenterError):
    """No such API, as the cloud's gateway answers."""

    http_status = 404
    error_code = "APIGW.0101"
    message_en = "The API does not exist or has not been published in the environment."
    message_zh = "API不存在或未发布。"


class MethodNotAllowed(RouteNotFound):
    """The path exists but not with this method."""

    http_status = 405


class PayloadTooLarge(TaskcenterError):
    """Request bodies are capped so one client cannot exhaust memory."""

    http_status = 413
    error_code = "DBS.200001"
    message_en = "Parameter error."
    message_zh = "参数错误。"


class HeadTooLarge(PayloadTooLarge):
    """Request heads are capped likewise (api.protocol)."""

    http_status = 431


class ServerFailure(TaskcenterError):
    """Anything unexpected, the database being down included. Details go to the log only."""

    http_status = 500
    error_code = "DBS.108000"
    message_en = "Server failure."
    message_zh = "服务器故障。"


class JobRunByWorker(TaskcenterError):
    """A job with a handler belongs to the engine; producers may only ask to cancel it."""

    http_status = 409
    error_code = "TASKCENTER.409003"
    message_en = "The job is run by a worker and cannot be changed through the producer API."
    message_zh = "该任务由工作进程执行，不能通过生产者接口修改。"


class LeaseLost(TaskcenterError):
    """A worker's claim on a job is no longer valid (it was rescued, cancelled or finished)."""

    http_status = 409
    error_code = "TASKCENTER.409004"
    message_en = "The worker no longer holds this job."
    message_zh = "工作进程已不再持有该任务。"


class JobNotCancelable(TaskcenterError):
    """Only Pending jobs, and Running jobs that a worker runs, can be cancelled."""

    error_code = "DBS.200001"
    message_en = "Parameter error."
    message_zh = "参数错误。"


class InstanceBusy(TaskcenterError):
    """One running operation per instance."""

    http_status = 409
    error_code = "DBS.200019"
    message_en = "Another operation is being performed on the DB instance. Try again later."
    message_zh = "实例上有其他操作正在进行，请稍后重试。"


class InstanceNotFound(TaskcenterError):
    """Unknown instance, or another project's: one answer for both."""

    http_status = 404
    error_code = "DBS.200045"
    message_en = "The DB instance does not exist."
    message_zh = "实例不存在。"

    def __init__(self) -> None:
        super().__init__()


class ServerUnavailable(TaskcenterError):
    """The instance's database server could not do what was asked (it is down or refused)."""

    http_status = 409
    error_code = "DBS.200047"
    message_en = "The DB instance is not available for this operation."
    message_zh = "实例当前不可用于该操作。"


class LoginThrottled(TaskcenterError):
    """Too many failed logins for one user name or from one client address: locked for a while
    (identity.throttle), as IAM locks a user. The same answer whether or not the name exists."""

    http_status = 429
    error_code = "APIGW.0308"  # the cloud's code for a request over its throttling threshold
    message_en = "Too many failed logins."
    message_zh = "登录失败次数过多。"
