"""The identity port's contract (ports.identity.IdentityPort), the operator's methods (project
list and delete, credential resets) included: every engine runs it against a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from taskcenter.domain.instance import DbInstance, InstanceStatus
from taskcenter.domain.job import JobPatch, NewJob
from taskcenter.domain.principals import AccessKey, IssuedToken, Principal, Project, User
from taskcenter.domain.status import JobStatus
from taskcenter.ports import ProjectInUse, Store
from tests.storage.contract import T0


async def test_identity_is_created_all_or_nothing(store: Store) -> None:
    assert not await store.has_users()
    project = Project("a" * 32, "alpha")
    user = User("u" * 32, "alpha", project.id, "$argon2id$hash", False)
    key = AccessKey("AKAKAKAKAKAKAKAKAKAK", "secret", user.id)
    assert await store.create_identity(project, user, key)
    assert await store.has_users()
    # A second project under a taken user name leaves no stray project behind.
    other = Project("b" * 32, "beta")
    clash = User("v" * 32, "alpha", other.id, "h", False)
    assert not await store.create_identity(other, clash, AccessKey("AK2", "s", clash.id))
    assert await store.get_project(other.id) is None
    assert await store.get_project_by_name("alpha") == project
    assert await store.get_user_by_name("alpha") == user
    found = await store.get_access_key(key.access_key)
    assert found == (key, Principal(user.id, "alpha", project.id, "alpha", False))
    assert await store.get_access_key("nope") is None


async def test_tokens_are_found_by_hash(store: Store) -> None:
    project = Project("c" * 32, "gamma")
    user = User("w" * 32, "gamma", project.id, "h", True)
    await store.create_identity(project, user, AccessKey("AK3", "s", user.id))
    principal = Principal(user.id, "gamma", project.id, "gamma", True)
    token = IssuedToken("f" * 64, principal, T0, T0 + timedelta(hours=24))
    await store.save_token(token)
    assert await store.get_token("f" * 64) == token
    assert await store.get_token("e" * 64) is None


# Instances and backups (the local MariaDB driver's records)


async def add_project(store: Store, name: str, key: str) -> tuple[Project, User]:
    project = Project(name * 4, name)
    user = User(f"u-{name}", name, project.id, f"hash-of-{name}", False)
    assert await store.create_identity(project, user, AccessKey(key, f"secret-{key}", user.id))
    return project, user


async def add_token(store: Store, project: Project, user: User, token_hash: str) -> None:
    principal = Principal(user.id, user.name, project.id, project.name, user.is_admin)
    await store.save_token(IssuedToken(token_hash, principal, T0, T0 + timedelta(days=1)))


async def test_projects_are_listed_oldest_first_with_their_users(store: Store) -> None:
    assert await store.list_projects() == []
    before = datetime.now(UTC) - timedelta(seconds=1)
    first, _ = await add_project(store, "zeta", "AK1")
    second, _ = await add_project(store, "alpha", "AK2")
    listed = await store.list_projects()
    assert [(p.id, p.name, p.users) for p in listed] == [
        (first.id, "zeta", ("zeta",)),
        (second.id, "alpha", ("alpha",)),
    ]
    assert all(before <= p.created <= datetime.now(UTC) for p in listed)


async def test_deleting_a_project_removes_its_users_keys_and_tokens_only(store: Store) -> None:
    doomed, doomed_user = await add_project(store, "doomed", "AK-DOOMED")
    kept, kept_user = await add_project(store, "kept", "AK-KEPT")
    await add_token(store, doomed, doomed_user, "t-doomed")
    await add_token(store, kept, kept_user, "t-kept")

    assert await store.delete_project(doomed.id) is None

    assert [p.name for p in await store.list_projects()] == ["kept"]
    assert await store.get_project(doomed.id) is None
    assert await store.get_user_by_name("doomed") is None
    assert await store.get_access_key("AK-DOOMED") is None
    assert await store.get_token("t-doomed") is None
    assert await store.get_access_key("AK-KEPT") is not None
    assert await store.get_token("t-kept") is not None
    # The name is free again.
    await add_project(store, "doomed", "AK-AGAIN")


async def test_a_project_with_an_unfinished_job_or_a_live_instance_is_not_deleted(store: Store) -> None:
    project, user = await add_project(store, "busy", "AK-BUSY")
    await add_token(store, project, user, "t-busy")
    job, _ = await store.create_job(NewJob(project_id=project.id, name="CreateGaussDBforMySQLInstance"), T0)
    await store.create_instance(
        DbInstance("i-1", project.id, "db-1", InstanceStatus.CREATING, "gaussdb.mysql.small.x86.2", T0, T0)
    )
    # Another project's unfinished work does not count.
    await store.create_job(NewJob(project_id="someone-else", name="CreateGaussDBforMySQLInstance"), T0)

    assert await store.delete_project(project.id) == ProjectInUse(live_instances=1, unfinished_jobs=1)
    assert await store.get_access_key("AK-BUSY") is not None and await store.get_token("t-busy") is not None

    await store.update_job(job.id, JobPatch(status=JobStatus.COMPLETED), T0)
    assert await store.delete_project(project.id) == ProjectInUse(live_instances=1, unfinished_jobs=0)
    await store.update_instance("i-1", T0, status=InstanceStatus.CREATEFAIL)
    assert await store.delete_project(project.id) == ProjectInUse(live_instances=1, unfinished_jobs=0)

    await store.update_instance("i-1", T0, status=InstanceStatus.DELETED)
    assert await store.delete_project(project.id) is None
    assert await store.get_project(project.id) is None and await store.get_token("t-busy") is None


async def test_a_password_reset_revokes_the_users_tokens_and_keeps_its_keys(store: Store) -> None:
    project, user = await add_project(store, "team", "AK-TEAM")
    other_project, other = await add_project(store, "other", "AK-OTHER")
    await add_token(store, project, user, "t-team")
    await add_token(store, other_project, other, "t-other")

    assert await store.reset_credentials(user.id, "new-hash", None)

    assert (await store.get_user_by_name("team")).password_hash == "new-hash"  # type: ignore[union-attr]
    assert await store.get_token("t-team") is None
    assert await store.get_access_key("AK-TEAM") is not None
    assert await store.get_token("t-other") is not None
    assert (await store.get_user_by_name("other")).password_hash == "hash-of-other"  # type: ignore[union-attr]


async def test_a_credentials_reset_with_a_key_replaces_every_key(store: Store) -> None:
    project, user = await add_project(store, "admin", "AK-OLD")
    await add_token(store, project, user, "t-admin")

    assert await store.reset_credentials(user.id, "new-hash", AccessKey("AK-NEW", "sk-new", user.id))

    assert await store.get_access_key("AK-OLD") is None
    found = await store.get_access_key("AK-NEW")
    assert found is not None and found[0] == AccessKey("AK-NEW", "sk-new", user.id)
    assert found[1].project_id == project.id
    assert await store.get_token("t-admin") is None


async def test_resetting_an_unknown_user_changes_nothing(store: Store) -> None:
    assert not await store.reset_credentials("nobody", "hash", AccessKey("AK-X", "sk", "nobody"))
    assert await store.get_access_key("AK-X") is None
