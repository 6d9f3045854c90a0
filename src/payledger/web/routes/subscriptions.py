"""``/api/v1/subscriptions``: create, list, read and change subscriptions (recurring billing).

The rules are the flows' (``flows/change_subscription.py``); this module turns requests into
their commands and their refusals into answers. A subscription belongs to the API client that
created it: another client's is 404, as if it did not exist; an ``admin`` token reaches all.
Creating and changing need an ``Idempotency-Key`` (a plan change may charge an upgrade's
proration at once); a change names the version it was made from (``If-Match``, as the
``ETag`` of a read gives it, or ``version``) and is refused with 412 when it moved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from payledger.bootstrap.subscriptions import change_ports
from payledger.domain.errors import AuthError, ConfigError
from payledger.domain.subscriptions import Subscription, SubscriptionStatus
from payledger.domain.subscriptions_billing import BillingEntry
from payledger.domain.subscriptions_changes import ChangeRefused
from payledger.domain.subscriptions_periods import InvalidSubscription
from payledger.flows.change_subscription import (
    CancelSubscription,
    ChangePlan,
    ChangePorts,
    CreateSubscription,
    PauseSubscription,
    ReplacePaymentMethod,
    ResumeSubscription,
    cancel_subscription,
    change_subscription_plan,
    create_subscription,
    pause_subscription,
    replace_subscription_payment_method,
    resume_subscription,
)
from payledger.flows.ports import StaleSubscription, UnknownSubscription
from payledger.stores.api_clients import ApiClient, Scope
from payledger.stores.subscriptions import SqlSubscriptions
from payledger.views.subscriptions import subscription_creator, subscription_page
from payledger.web.auth import require_scope
from payledger.web.deps import ContainerDep
from payledger.web.idempotency import IdempotencyDep, Reply
from payledger.web.inbound import ExactJsonRoute, problem
from payledger.web.problems import ApiProblem, problem_responses
from payledger.web.subscription_schemas import (
    ProrationPublic,
    SubscriptionChange,
    SubscriptionChanged,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionPublic,
    SubscriptionSummary,
)

router = APIRouter(
    prefix="/api/v1/subscriptions", tags=["subscriptions"], route_class=ExactJsonRoute
)

Writer = Annotated[ApiClient, Depends(require_scope("payments:write"))]
Reader = Annotated[ApiClient, Depends(require_scope("read", "payments:write", "admin"))]
LARGEST_ID = 2**63 - 1
SubscriptionId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="The subscription's id.")]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=40,
        description='The version the change is made from, as the ETag of a read ("3").',
    ),
]


def actor_of(client: ApiClient) -> str:
    return f"api:{client.name}"


@contextmanager
def _refusals(*, stale_status: int = 409) -> Iterator[None]:
    """The flows' refusals as answers (``stale_status``: 412 when the caller named a version)."""
    try:
        yield
    except InvalidSubscription as exc:
        raise ApiProblem(
            422,
            "invalid_subscription",
            str(exc),
            problems=[problem(f"body.{exc.field}", str(exc))],
        ) from exc
    except UnknownSubscription as exc:
        raise ApiProblem(404, "not_found", str(exc)) from exc
    except StaleSubscription as exc:
        code = "version_mismatch" if stale_status == 412 else "conflict"
        raise ApiProblem(stale_status, code, str(exc)) from exc
    except ChangeRefused as exc:
        raise ApiProblem(409, "change_refused", str(exc)) from exc
    except AuthError as exc:
        raise ApiProblem(
            502,
            "upstream_auth_failed",
            f"{exc.system} refused payledger's credentials; an operator must fix them",
        ) from exc
    except ConfigError as exc:
        raise ApiProblem(503, "not_configured", str(exc)) from exc


async def _own(container: ContainerDep, client: ApiClient, subscription_id: int) -> Subscription:
    """The subscription, if ``client`` created it (or is an admin): another client's is 404."""
    found = await SqlSubscriptions(container.database, container.clock).get(subscription_id)
    creator = await subscription_creator(container.database, subscription_id) if found else None
    owner = creator.removeprefix("api:") if creator and creator.startswith("api:") else ""
    if found is None or not client.can_see(owner):
        raise ApiProblem(404, "not_found", f"no subscription {subscription_id}")
    return found


async def _history(container: ContainerDep, subscription_id: int) -> list[BillingEntry]:
    return await SqlSubscriptions(container.database, container.clock).entries(subscription_id)


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionPublic,
    summary="Subscribe a D365 customer to a plan",
    responses=problem_responses(400, 401, 403, 409, 422, 502, 503),
)
async def create(
    body: SubscriptionCreate,
    client: Writer,
    idempotency: IdempotencyDep,
    container: ContainerDep,
) -> JSONResponse:
    """Bill `customer_account` `plan.amount` every `interval` from `anchor`, charged through
    `vault_customer_id` (default: the PayTrace customer on the D365 customer). Refused with
    422 `invalid_subscription`, naming the field, when the customer is unknown or has no card
    or bank account at PayTrace, the amount is not more than 0 or has too many decimals, the
    currency is unknown, the interval never fires or the end is before the start."""
    command = CreateSubscription(
        customer_account=body.customer_account,
        amount=body.plan.amount,
        currency=body.plan.currency,
        description=body.plan.description,
        actor=actor_of(client),
        unit=body.interval.unit,
        every=body.interval.every,
        rule=body.interval.rule,
        anchor=body.anchor,
        vault_customer_id=body.vault_customer_id,
        trial_end=body.trial_end,
        end_date=body.end_date,
        max_periods=body.max_periods,
        item=body.plan.item,
        ledger_account=body.plan.ledger_account,
    )

    async def work() -> Reply:
        with _refusals():
            ports = await change_ports(container, charge_upgrades=False)
            created = await create_subscription(command, ports)
        return Reply(201, SubscriptionPublic.of(created, []))

    return await idempotency.run(client, work)


@router.get(
    "",
    response_model=SubscriptionList,
    summary="List subscriptions",
    responses=problem_responses(401, 403, 422),
)
async def list_subscriptions(
    client: Reader,
    container: ContainerDep,
    status: SubscriptionStatus | None = None,
    customer: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SubscriptionList:
    """This client's subscriptions (an `admin` token: everyone's), oldest first, `limit` at
    a time from the id `after`; filter by `status` and `customer` (D365 account)."""
    rows = await subscription_page(
        container.database,
        status=status.value if status else None,
        customer=customer,
        created_by=None if client.allows(Scope.ADMIN) else actor_of(client),
        after=after,
        limit=limit,
    )
    return SubscriptionList(
        subscriptions=[SubscriptionSummary.of(row) for row in rows],
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.get(
    "/{subscription_id}",
    response_model=SubscriptionPublic,
    summary="A subscription with its next charge and billing history",
    responses=problem_responses(401, 403, 404, 422),
)
async def read(
    subscription_id: SubscriptionId, client: Reader, container: ContainerDep, response: Response
) -> SubscriptionPublic:
    """The subscription, its next charge date and every period billed: dates, amount, D365
    invoice number, PayTrace transaction and status. `ETag` is its version."""
    subscription = await _own(container, client, subscription_id)
    response.headers["ETag"] = f'"{subscription.version}"'
    return SubscriptionPublic.of(subscription, await _history(container, subscription_id))


def _expected_version(if_match: str | None, version: int | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return version
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ApiProblem(
            422,
            "invalid_request",
            'If-Match must be the subscription\'s version as its ETag gives it, e.g. "3"',
            problems=[problem("header.If-Match", "not a version")],
        )
    if version is not None and version != int(text):
        raise ApiProblem(
            422,
            "invalid_request",
            "If-Match and version name different versions; send one",
            problems=[problem("body.version", "differs from If-Match")],
        )
    return int(text)


async def _change(
    body: SubscriptionChange,
    subscription_id: int,
    actor: str,
    expected: int | None,
    ports: ChangePorts,
) -> tuple[Subscription, ProrationPublic | None]:
    """The one change ``body`` asks for, through its flow."""
    sid, version = subscription_id, expected
    if body.plan is not None:
        p = body.plan
        command = ChangePlan(
            sid, p.amount, p.currency, p.description, actor, p.item, p.ledger_account, version
        )
        result = await change_subscription_plan(command, ports)
        prorated = result.proration
        answer = ProrationPublic.of(prorated, result.upgrade_charge) if prorated else None
        return result.subscription, answer
    if body.vault_customer_id is not None:
        method = ReplacePaymentMethod(sid, body.vault_customer_id, actor, version)
        return await replace_subscription_payment_method(method, ports), None
    if body.status == "paused":
        return await pause_subscription(PauseSubscription(sid, actor, version), ports), None
    if body.status == "active":
        return await resume_subscription(ResumeSubscription(sid, actor, version), ports), None
    at_end = bool(body.cancel_at_period_end)
    cancel = CancelSubscription(sid, actor, at_period_end=at_end, expected_version=version)
    return await cancel_subscription(cancel, ports), None


@router.patch(
    "/{subscription_id}",
    response_model=SubscriptionChanged,
    summary="Change the plan, pause, resume, cancel, or replace the payment method",
    responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 502, 503),
)
async def change(
    subscription_id: SubscriptionId,
    body: SubscriptionChange,
    client: Writer,
    idempotency: IdempotencyDep,
    container: ContainerDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """One change per request: `plan` (prorated when the period running was billed: an
    upgrade is invoiced and charged at once, a downgrade credited on the next invoices; see
    `proration`), `status` `paused`, `active` (resume) or `cancelled` (now),
    `cancel_at_period_end: true`, or `vault_customer_id`."""
    expected = _expected_version(if_match, body.version)

    async def work() -> Reply:
        await _own(container, client, subscription_id)
        with _refusals(stale_status=412 if expected is not None else 409):
            ports = await change_ports(container, charge_upgrades=body.plan is not None)
            changed, proration = await _change(
                body, subscription_id, actor_of(client), expected, ports
            )
        history = await _history(container, subscription_id)
        return Reply(200, SubscriptionChanged.of(changed, history, proration=proration))

    return await idempotency.run(client, work)
