namespace Kfci.Dashboard.Pages;

/// <summary>
/// The stylesheet and the script, served by the app itself (no CDN, no build step). The script only refreshes the
/// <c>#live</c> part of a page every few seconds while the page is visible: the server renders everything.
/// </summary>
internal static class Assets
{
    public const string Css = """
        :root { color-scheme: light dark; --pass: #2e9d45; --fail: #d33b3b; --flaky: #e2a21b; --skip: #9aa0a6; --none: transparent; --line: #8884; }
        body { font: 14px/1.45 system-ui, sans-serif; margin: 0; }
        nav { display: flex; gap: 1em; padding: .6em 1em; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
        nav .brand { font-weight: 700; }
        main { padding: .5em 1em 2em; max-width: 100%; }
        h1 { font-size: 1.3em; margin: .4em 0; overflow-wrap: anywhere; }
        h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; }
        th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
        td.msg, pre { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 60em; }
        pre { font-size: 12px; }
        form.filters { display: flex; gap: .5em; flex-wrap: wrap; margin: .5em 0; }
        .state-finished { color: inherit; } .result-SUCCESS { color: var(--pass); } .result-FAILURE { color: var(--fail); } .result-ABORTED { color: var(--flaky); }
        table.grid td.cell { width: 1.1em; min-width: 1.1em; height: 1.1em; padding: 0; border: 1px solid #fff4; }
        td.cell.pass { background: var(--pass); } td.cell.fail { background: var(--fail); } td.cell.flaky { background: var(--flaky); }
        td.cell.skip { background: var(--skip); } td.cell.first { outline: 3px solid #000; outline-offset: -3px; }
        table.grid th.build { writing-mode: vertical-rl; font-weight: 400; font-size: 11px; }
        td.name { white-space: nowrap; max-width: 28em; overflow: hidden; text-overflow: ellipsis; }
        .legend span { display: inline-block; padding: 0 .5em; margin-right: .3em; color: #fff; }
        .legend .pass { background: var(--pass); } .legend .fail { background: var(--fail); } .legend .flaky { background: var(--flaky); } .legend .skip { background: var(--skip); }
        svg.timeline { max-width: 100%; height: auto; }
        svg .pass { fill: var(--pass); } svg .fail { fill: var(--fail); } svg .skip { fill: var(--skip); } svg .flaky { fill: var(--flaky); }
        svg text { font-size: 11px; fill: currentColor; }
        .note { color: #888; }
        """;

    public const string Js = """
        "use strict";
        (function () {
          const live = document.getElementById("live");
          if (!live || !live.dataset.live) return;
          const every = Number(live.dataset.live) * 1000;
          async function refresh() {
            if (document.visibilityState === "visible") {
              try {
                const response = await fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" });
                if (response.ok) {
                  const next = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("live");
                  if (next) {
                    live.innerHTML = next.innerHTML;
                    if (!next.dataset.live) { delete live.dataset.live; return; }
                  }
                }
              } catch (e) { /* offline for a moment: try again on the next tick */ }
            }
            setTimeout(refresh, every);
          }
          setTimeout(refresh, every);
        })();
        """;
}
