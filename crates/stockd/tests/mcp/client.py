"""A real MCP client (the Python `mcp` SDK) against stockd, for crates/stockd/tests/mcp_e2e.rs.

It connects over streamable HTTP (`/mcp`) and over stdio (`stockd mcp` as a child), lists the
tools, calls every one on the bundled sample data and checks each answer against the REST
API's answer to the same question; checks that another user's alert cannot be reached, that a
bad argument is a tool error naming it, and reads the resources and prompts. Exit status 0
when everything held; otherwise the first failed check is printed.

Usage: client.py --base http://127.0.0.1:PORT --token stk_api_... --other-alert ID
                 --stockd /path/to/stockd --env NAME=VALUE ...
"""

import argparse
import asyncio
import json
import sys
import urllib.error
import urllib.request

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

EXPECTED_TOOLS = {
    "daily_prices", "quote", "end_of_day", "price_change", "daily_prices_many", "indicators",
    "indicator_catalogue", "signal", "news", "sentiment", "watchlist", "watch_symbol",
    "unwatch_symbol", "list_alerts", "get_alert", "backtest_alert", "create_alert",
    "pause_alert", "resume_alert", "delete_alert", "list_notifications",
}
WRITING = {"watch_symbol", "unwatch_symbol", "create_alert", "pause_alert", "resume_alert",
           "delete_alert"}
DESTRUCTIVE = {"unwatch_symbol", "delete_alert"}


class Rest:
    """The REST API with the same token, to compare answers with."""

    def __init__(self, base, token):
        self.base = base
        self.token = token

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read().decode())


def check(condition, what):
    if not condition:
        raise AssertionError(what)


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    return result


def structured(result, name):
    check(not result.isError, f"{name} failed: {result.content}")
    check(result.structuredContent is not None, f"{name}: no structured content")
    return result.structuredContent


def text_of(result):
    return " ".join(block.text for block in result.content if block.type == "text")


async def same_as_rest(session, rest, name, arguments, method, path, body=None, keys=None):
    """Calls `name`; the REST answer to `method path` must be the same (or the same error)."""
    result = await call(session, name, arguments)
    status, expected = rest.call(method, path, body)
    if status >= 400:
        check(result.isError, f"{name}: REST answered {status} but the tool succeeded")
        check(expected["detail"] in text_of(result),
              f"{name}: tool error {text_of(result)!r} lacks the REST detail {expected['detail']!r}")
        check(result.structuredContent == expected,
              f"{name}: problem {result.structuredContent} != REST {expected}")
        return None
    got = structured(result, name)
    if keys is None:
        check(got == expected, f"{name}: {json.dumps(got)[:400]} != REST {json.dumps(expected)[:400]}")
    else:
        for key in keys:
            check(got.get(key) == expected.get(key),
                  f"{name}: {key} {got.get(key)!r} != REST {expected.get(key)!r}")
    return got


async def exercise(session, rest, other_alert, label):
    await session.initialize()

    listed = await session.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    check(set(tools) == EXPECTED_TOOLS, f"{label}: tools {sorted(tools)}")
    for name, tool in tools.items():
        check(tool.description and len(tool.description) > 20, f"{name}: no description")
        check(tool.inputSchema.get("type") == "object", f"{name}: schema {tool.inputSchema}")
        hints = tool.annotations
        check(hints is not None, f"{name}: no annotations")
        check(hints.readOnlyHint == (name not in WRITING), f"{name}: readOnlyHint {hints.readOnlyHint}")
        if name in WRITING:
            check(bool(hints.destructiveHint) == (name in DESTRUCTIVE),
                  f"{name}: destructiveHint {hints.destructiveHint}")
    check("days" in tools["daily_prices"].inputSchema["properties"], "daily_prices: no days")
    check("kind" in tools["create_alert"].inputSchema["properties"], "create_alert: no kind")

    # Market data: the same numbers as the REST API, with provenance.
    daily = await same_as_rest(session, rest, "daily_prices", {"symbol": "MSFT", "days": 5},
                               "GET", "/v1/stocks/MSFT/daily?days=5",
                               keys=["symbol", "source", "count", "average_close", "bars"])
    check(daily["count"] == 5 and daily["average_close"] is not None, f"daily: {daily}")
    for key in ("source", "fetched_at", "stale"):
        check(key in daily, f"daily_prices: no provenance {key}")
    quote = await same_as_rest(session, rest, "quote", {"symbol": "MSFT"}, "GET",
                               "/v1/stocks/MSFT/quote",
                               keys=["symbol", "source", "previous_close", "trading_day"])
    for key in ("source", "fetched_at", "stale"):
        check(key in quote, f"quote: no provenance {key}")
    await same_as_rest(session, rest, "end_of_day", {"symbol": "MSFT", "date": "2012-06-01"},
                       "GET", "/v1/stocks/MSFT/eod?date=2012-06-01",
                       keys=["session_date", "bar", "source", "stale", "sessions_behind"])
    await same_as_rest(session, rest, "price_change", {"symbol": "MSFT", "days": 20}, "GET",
                       "/v1/stocks/MSFT/delta?days=20")
    await same_as_rest(session, rest, "daily_prices_many",
                       {"symbols": ["MSFT", "AAPL"], "days": 3}, "GET",
                       "/v1/daily?symbols=MSFT,AAPL&days=3", keys=["errors"])
    many = structured(await call(session, "daily_prices_many",
                                 {"symbols": ["MSFT", "AAPL"], "days": 3}), "daily_prices_many")
    _, many_rest = rest.call("GET", "/v1/daily?symbols=MSFT,AAPL&days=3")
    check([(r["symbol"], r["bars"]) for r in many["results"]]
          == [(r["symbol"], r["bars"]) for r in many_rest["results"]], "daily_prices_many bars")
    await same_as_rest(session, rest, "indicators",
                       {"symbol": "MSFT", "series": "sma:5,rsi:14", "days": 5}, "GET",
                       "/v1/stocks/MSFT/indicators?series=sma:5,rsi:14&days=5",
                       keys=["symbol", "source", "dates", "series"])
    await same_as_rest(session, rest, "indicator_catalogue", {}, "GET", "/v1/indicators")
    await same_as_rest(session, rest, "signal", {"symbol": "MSFT"}, "GET",
                       "/v1/stocks/MSFT/signal", keys=["symbol", "score", "label", "day"])
    await same_as_rest(session, rest, "news", {"symbol": "MSFT", "limit": 5}, "GET",
                       "/v1/stocks/MSFT/news?limit=5")
    await same_as_rest(session, rest, "sentiment", {"symbol": "MSFT", "days": 7}, "GET",
                       "/v1/stocks/MSFT/sentiment?days=7", keys=["symbol", "days"])

    # The watchlist: add, read (tool and resource), remove.
    watched = structured(await call(session, "watch_symbol", {"symbol": "AAPL"}), "watch_symbol")
    check(watched["symbol"] == "AAPL", f"watch_symbol: {watched}")
    listing = await same_as_rest(session, rest, "watchlist", {}, "GET", "/v1/me/watchlist")
    check("AAPL" in [w["symbol"] for w in listing["symbols"]], f"watchlist: {listing}")
    resources = await session.list_resources()
    uris = {str(r.uri) for r in resources.resources}
    check(uris == {"stockd://me/watchlist", "stockd://me/alerts"}, f"resources: {uris}")
    read = await session.read_resource("stockd://me/watchlist")
    check(json.loads(read.contents[0].text) == rest.call("GET", "/v1/me/watchlist?limit=1000")[1],
          "watchlist resource != REST")
    unwatched = structured(await call(session, "unwatch_symbol", {"symbol": "AAPL"}),
                           "unwatch_symbol")
    check(unwatched == {"symbol": "AAPL", "watched": False}, f"unwatch_symbol: {unwatched}")
    check("AAPL" not in [w["symbol"] for w in rest.call("GET", "/v1/me/watchlist")[1]["symbols"]],
          "AAPL still watched after unwatch_symbol")

    # Alerts: dry run, create, read, pause, resume, delete.
    rule = {"symbol": "MSFT", "kind": "crosses_up", "price": 30.0, "frequency": "once"}
    tried = await same_as_rest(session, rest, "backtest_alert",
                               {"rule": rule, "from": "2012-01-01", "to": "2012-12-31"}, "POST",
                               "/v1/alerts/backtest?from=2012-01-01&to=2012-12-31", body=rule)
    check(tried["bars"] > 200, f"backtest_alert: {tried}")
    created = structured(await call(session, "create_alert", rule), "create_alert")
    alert = created["id"]
    await same_as_rest(session, rest, "get_alert", {"id": alert}, "GET", f"/v1/alerts/{alert}")
    await same_as_rest(session, rest, "list_alerts", {}, "GET", "/v1/alerts")
    read = await session.read_resource("stockd://me/alerts")
    check(json.loads(read.contents[0].text) == rest.call("GET", "/v1/alerts?limit=1000")[1],
          "alerts resource != REST")
    await same_as_rest(session, rest, "backtest_alert", {"id": alert, "from": "2012-01-01"},
                       "POST", f"/v1/alerts/{alert}/backtest?from=2012-01-01")
    paused = structured(await call(session, "pause_alert", {"id": alert}), "pause_alert")
    check(paused["status"] == "paused", f"pause_alert: {paused}")
    check(rest.call("GET", f"/v1/alerts/{alert}")[1]["status"] == "paused", "REST not paused")
    resumed = structured(await call(session, "resume_alert", {"id": alert}), "resume_alert")
    check(resumed["status"] == "active", f"resume_alert: {resumed}")
    deleted = structured(await call(session, "delete_alert", {"id": alert}), "delete_alert")
    check(deleted == {"id": alert, "deleted": True}, f"delete_alert: {deleted}")
    check(rest.call("GET", f"/v1/alerts/{alert}")[0] == 404, "alert still there after delete")
    await same_as_rest(session, rest, "list_notifications", {"limit": 10}, "GET",
                       "/v1/notifications?limit=10")

    # Another user's alert: not found, exactly like the REST API says, and untouched.
    for name in ("get_alert", "pause_alert", "delete_alert", "backtest_alert"):
        result = await call(session, name, {"id": other_alert})
        check(result.isError, f"{name} reached another user's alert: {result.content}")
        check(result.structuredContent["status"] == 404, f"{name}: {result.structuredContent}")
    status, problem = rest.call("GET", f"/v1/alerts/{other_alert}")
    check(status == 404, f"REST reached another user's alert: {status}")
    result = await call(session, "get_alert", {"id": other_alert})
    check(text_of(result) == f"{problem['title']}: {problem['detail']}",
          f"get_alert of another user's alert: {text_of(result)!r} vs REST {problem}")

    # Bad arguments: tool errors naming the argument.
    result = await call(session, "daily_prices", {"symbol": "MSFT", "days": 0})
    check(result.isError and "days" in text_of(result), f"days=0: {result.content}")
    status, problem = rest.call("GET", "/v1/stocks/MSFT/daily?days=0")
    check(problem["detail"] in text_of(result), f"days=0: {text_of(result)!r} vs {problem}")
    result = await call(session, "daily_prices", {"symbol": "MSFT", "days": "five"})
    check(result.isError and "`days`" in text_of(result), f"days=five: {result.content}")
    result = await call(session, "create_alert", {"symbol": "MSFT", "kind": "above"})
    check(result.isError and "price" in text_of(result), f"rule without price: {result.content}")
    result = await call(session, "quote", {"symbol": "not a symbol!"})
    check(result.isError and "symbol" in text_of(result).lower(), f"bad symbol: {result.content}")

    prompts = await session.list_prompts()
    check({p.name for p in prompts.prompts} == {"check_symbol", "plan_alert"}, "prompts")
    prompt = await session.get_prompt("check_symbol", {"symbol": "MSFT"})
    check("MSFT" in prompt.messages[0].content.text and "quote" in prompt.messages[0].content.text,
          f"check_symbol: {prompt}")
    print(f"{label}: {len(tools)} tools checked against the REST API", flush=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--other-alert", type=int, required=True)
    parser.add_argument("--stockd", required=True)
    parser.add_argument("--env", action="append", default=[])
    args = parser.parse_args()
    rest = Rest(args.base, args.token)

    headers = {"Authorization": f"Bearer {args.token}"}
    async with streamablehttp_client(f"{args.base}/mcp", headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await exercise(session, rest, args.other_alert, "http")

    env = dict(item.split("=", 1) for item in args.env)
    env["STOCKD_MCP_TOKEN"] = args.token
    server = StdioServerParameters(command=args.stockd, args=["mcp"], env=env)
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session, rest, args.other_alert, "stdio")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as err:
        print(f"check failed: {err}", file=sys.stderr)
        sys.exit(1)
