"""The agent benchmark's tasks (`make bench-agent`): small jobs of the kinds level5 is for (CSV and JSON
analysis, text processing, small algorithms, data cleaning), each with machine-checkable criteria, one of
them visible to the model and one hidden (the model sees only its name and, when it fails, that it
failed). Every task carries a reference solution; tests/unit/test_agent_bench_tasks.py runs each one
against its criteria, so a wrong expectation cannot hide in the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_OUTPUT_PATH = re.compile(r"/output/[\w.-]*\w")


@dataclass(frozen=True)
class BenchTask:
    """One benchmark task: the goal, reference data files (mounted read-only at /data), criteria in the
    CRD's shape, and a reference program that passes them."""

    name: str
    category: str
    goal: str
    criteria: list[dict[str, Any]]
    reference: str
    data: dict[str, str] = field(default_factory=dict)

    def manifests(self, max_iterations: int) -> list[dict[str, Any]]:
        """The AgentTask (and its data ConfigMap), unsupervised (autonomy D), standard library only."""
        files: dict[str, Any] = {"read": [f"/data/{name}" for name in self.data]}
        # The files the goal asks for, declared too: the prompt's sandbox section said "files to write: none
        # required" to tasks whose goal asks for /output/adults30.csv (found 2026-12-01).
        if writes := _OUTPUT_PATH.findall(self.goal):
            files["write"] = writes
        docs: list[dict[str, Any]] = []
        if self.data:
            files["referenceData"] = f"{self.name}-data"
            docs.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"{self.name}-data"},
                    "data": self.data,
                }
            )
        docs.append(
            {
                "apiVersion": "level5.dev/v1alpha1",
                "kind": "AgentTask",
                "metadata": {"name": self.name, "labels": {"level5.dev/bench-category": self.category}},
                "spec": {
                    "goal": {
                        "primary": self.goal,
                        "successCriteria": self.criteria,
                        "constraints": ["Use only the Python standard library."],
                    },
                    "capabilities": {
                        "language": "python",
                        "maxLines": 80,
                        "files": files,
                        "timeoutSeconds": 30,
                    },
                    "iterations": {"maxIterations": max_iterations},
                    "autonomy": {"level": "D", "escalation": {"triggers": []}},
                    # Decoded as the demo is (samples/csv-analysis.yaml): greedily, so a rerun gives the same
                    # answers and the table is a property of the model, not of one draw. (No seed: greedy
                    # decoding draws nothing, and a cluster whose CRD predates spec.model.seed accepts it.)
                    "model": {"temperature": 0, "maxTokens": 700},
                },
            }
        )
        return docs


def _seen(name: str, **check: Any) -> dict[str, Any]:
    return {"name": name, **check}


def _hidden(name: str, **check: Any) -> dict[str, Any]:
    return {"name": name, "hidden": True, **check}


SALES = """region,product,units,price
north,widget,10,2.50
south,widget,4,2.50
north,gadget,3,10.00
east,gadget,1,10.00
south,gizmo,7,1.25
west,widget,2,2.50
east,gizmo,12,1.25
"""
PEOPLE = """name,age,city
Ana,34,Lisbon
Ben,28,Porto
Chloe,45,Lisbon
Dev,19,Faro
Eve,52,Porto
Finn,31,Lisbon
"""
DIRTY = """id,name,email,amount
1, Alice ,ALICE@EXAMPLE.COM,10.5
2,Bob,bob@example.com,
3,alice,alice@example.com,4.5
4,  Carol,carol@example.com,n/a
5,Dan,dan@example.com,7
2,Bob,bob@example.com,
"""
ORDERS_JSON = """[
 {"id": 1, "customer": "acme", "items": [{"sku": "A", "qty": 2, "price": 3.0}, {"sku": "B", "qty": 1, "price": 10.0}]},
 {"id": 2, "customer": "zen", "items": [{"sku": "A", "qty": 5, "price": 3.0}]},
 {"id": 3, "customer": "acme", "items": [{"sku": "C", "qty": 1, "price": 7.5}]},
 {"id": 4, "customer": "bolt", "items": []}
]
"""
EVENTS_JSONL = """{"ts": "2024-05-01T10:00:00", "user": "u1", "action": "login"}
{"ts": "2024-05-01T10:05:00", "user": "u2", "action": "login"}
{"ts": "2024-05-01T10:07:00", "user": "u1", "action": "purchase", "amount": 20}
{"ts": "2024-05-01T11:00:00", "user": "u3", "action": "login"}
{"ts": "2024-05-01T11:30:00", "user": "u1", "action": "purchase", "amount": 5}
{"ts": "2024-05-01T12:00:00", "user": "u2", "action": "purchase", "amount": 12}
{"ts": "2024-05-01T12:10:00", "user": "u2", "action": "logout"}
"""
CONFIG_JSON = """{"service": {"name": "api", "port": 8080, "tls": {"enabled": true, "cert": "/etc/c.pem"}},
 "workers": [{"name": "w1", "threads": 4}, {"name": "w2", "threads": 2}],
 "debug": false}
"""
TEXT = """The quick brown fox jumps over the lazy dog. The dog sleeps.
A fox is quick; a dog is lazy. Foxes and dogs are animals.
"""
LOG = """2024-05-01 10:00:01 INFO start
2024-05-01 10:00:02 WARN disk 81%
2024-05-01 10:00:03 ERROR db timeout
2024-05-01 10:01:00 INFO request /a 200
2024-05-01 10:01:01 ERROR db timeout
2024-05-01 10:01:02 ERROR cache miss storm
2024-05-01 10:02:00 INFO stop
"""
TEMPS = """city,day,temp_c
Oslo,1,-3.5
Oslo,2,-1.0
Rome,1,12.0
Rome,2,14.5
Oslo,3,0.5
Rome,3,13.0
"""
GRADES_JSON = """{"students": [
 {"name": "ana", "scores": [90, 85, 77]},
 {"name": "ben", "scores": [60, 70]},
 {"name": "cy", "scores": []},
 {"name": "dee", "scores": [100]}
]}
"""

TASKS: list[BenchTask] = [
    # --- CSV analysis -----------------------------------------------------------------------------------
    BenchTask(
        "csv-revenue",
        "csv",
        "Read /data/sales.csv (columns region, product, units, price) and print the total revenue "
        "(units * price) per region, one line per region formatted as '<region>: <revenue with 2 decimals>', "
        "regions in alphabetical order.",
        [_seen("north", outputContains="north: 55.00"), _hidden("east", outputContains="east: 25.00")],
        "import csv\nt={}\nfor r in csv.DictReader(open('/data/sales.csv')):\n"
        "    t[r['region']]=t.get(r['region'],0)+int(r['units'])*float(r['price'])\n"
        "for k in sorted(t): print(f'{k}: {t[k]:.2f}')\n",
        {"sales.csv": SALES},
    ),
    BenchTask(
        "csv-top-product",
        "csv",
        "Read /data/sales.csv (columns region, product, units, price). Print the product with the most "
        "units sold in total, as 'top: <product> (<units> units)'.",
        [
            _seen("format", outputMatches=r"^top: \w+ \(\d+ units\)$"),
            _hidden("answer", outputContains="top: gizmo (19 units)"),
        ],
        "import csv\nt={}\nfor r in csv.DictReader(open('/data/sales.csv')):\n"
        "    t[r['product']]=t.get(r['product'],0)+int(r['units'])\n"
        "p=max(t,key=t.get)\nprint(f'top: {p} ({t[p]} units)')\n",
        {"sales.csv": SALES},
    ),
    BenchTask(
        "csv-average-age",
        "csv",
        "Read /data/people.csv (columns name, age, city) and print the average age per city with one "
        "decimal, one line per city as '<city> <average>', cities in alphabetical order.",
        [_seen("lisbon", outputContains="Lisbon 36.7"), _hidden("porto", outputContains="Porto 40.0")],
        "import csv\nd={}\nfor r in csv.DictReader(open('/data/people.csv')):\n"
        "    d.setdefault(r['city'],[]).append(int(r['age']))\n"
        "for c in sorted(d): print(f'{c} {sum(d[c])/len(d[c]):.1f}')\n",
        {"people.csv": PEOPLE},
    ),
    BenchTask(
        "csv-filter-write",
        "csv",
        "Read /data/people.csv (columns name, age, city) and write /output/adults30.csv with the header "
        "'name,age' and the rows of people aged 30 or more, in the input order. Print how many rows you wrote.",
        [
            _seen("count", outputMatches=r"\b4\b"),
            _hidden(
                "file",
                testScript="import csv\nrows=list(csv.reader(open('adults30.csv')))\n"
                "assert rows[0]==['name','age'], f'header {rows[0]}'\n"
                "assert [r[0] for r in rows[1:]]==['Ana','Chloe','Eve','Finn'], f'rows {rows[1:]}'\n",
            ),
        ],
        "import csv\nrows=[r for r in csv.DictReader(open('/data/people.csv')) if int(r['age'])>=30]\n"
        "w=csv.writer(open('/output/adults30.csv','w',newline=''))\nw.writerow(['name','age'])\n"
        "for r in rows: w.writerow([r['name'],r['age']])\nprint(len(rows))\n",
        {"people.csv": PEOPLE},
    ),
    BenchTask(
        "csv-temp-range",
        "csv",
        "Read /data/temps.csv (columns city, day, temp_c). For each city print '<city>: min <min> max <max>' "
        "with one decimal, cities in alphabetical order.",
        [
            _seen("oslo", outputContains="Oslo: min -3.5 max 0.5"),
            _hidden("rome", outputContains="Rome: min 12.0 max 14.5"),
        ],
        "import csv\nd={}\nfor r in csv.DictReader(open('/data/temps.csv')):\n"
        "    d.setdefault(r['city'],[]).append(float(r['temp_c']))\n"
        "for c in sorted(d): print(f'{c}: min {min(d[c]):.1f} max {max(d[c]):.1f}')\n",
        {"temps.csv": TEMPS},
    ),
    BenchTask(
        "csv-column-stats",
        "csv",
        "Read /data/sales.csv (columns region, product, units, price) and print the number of data rows as "
        "'rows: N' and the sum of the units column as 'units: N', each on its own line.",
        [_seen("rows", outputContains="rows: 7"), _hidden("units", outputContains="units: 39")],
        "import csv\nr=list(csv.DictReader(open('/data/sales.csv')))\nprint(f'rows: {len(r)}')\n"
        "print(f\"units: {sum(int(x['units']) for x in r)}\")\n",
        {"sales.csv": SALES},
    ),
    BenchTask(
        "csv-to-json",
        "csv",
        "Convert /data/people.csv (columns name, age, city) to /output/people.json: a JSON list of objects "
        "with keys name (string), age (integer) and city (string). Print 'wrote N records'.",
        [
            _seen("printed", outputContains="wrote 6 records"),
            _hidden(
                "json",
                testScript="import json\nd=json.load(open('people.json'))\n"
                "assert d[0]=={'name':'Ana','age':34,'city':'Lisbon'}, d[0]\nassert len(d)==6, len(d)\n",
            ),
        ],
        "import csv,json\nr=[{'name':x['name'],'age':int(x['age']),'city':x['city']} "
        "for x in csv.DictReader(open('/data/people.csv'))]\n"
        "json.dump(r,open('/output/people.json','w'))\nprint(f'wrote {len(r)} records')\n",
        {"people.csv": PEOPLE},
    ),
    # --- data cleaning ------------------------------------------------------------------------------------
    BenchTask(
        "clean-dedupe",
        "cleaning",
        "Read /data/customers.csv (columns id, name, email, amount). Some rows are exact duplicates. Print "
        "the number of rows after removing exact duplicate rows, as 'unique rows: N'.",
        [
            _seen("format", outputMatches=r"^unique rows: \d+$"),
            _hidden("answer", outputContains="unique rows: 5"),
        ],
        "lines=open('/data/customers.csv').read().splitlines()[1:]\nprint(f'unique rows: {len(set(lines))}')\n",
        {"customers.csv": DIRTY},
    ),
    BenchTask(
        "clean-missing-amounts",
        "cleaning",
        "Read /data/customers.csv (columns id, name, email, amount). The amount is sometimes empty or 'n/a'. "
        "Print the sum of the valid amounts with 2 decimals as 'total: X' and the number of invalid or "
        "missing amounts as 'missing: N'.",
        [_seen("total", outputContains="total: 22.00"), _hidden("missing", outputContains="missing: 3")],
        "import csv\nt=0.0\nm=0\nfor r in csv.DictReader(open('/data/customers.csv')):\n"
        "    try: t+=float(r['amount'])\n    except ValueError: m+=1\nprint(f'total: {t:.2f}')\nprint(f'missing: {m}')\n",
        {"customers.csv": DIRTY},
    ),
    BenchTask(
        "clean-normalise-names",
        "cleaning",
        "Read /data/customers.csv (columns id, name, email, amount). Strip spaces around names and "
        "capitalise them (first letter upper case, rest lower case). Print the distinct cleaned names in "
        "alphabetical order, comma-separated, on one line.",
        [_seen("starts", outputMatches=r"^Alice,"), _hidden("names", outputContains="Alice,Bob,Carol,Dan")],
        "import csv\nn=sorted({r['name'].strip().capitalize() for r in csv.DictReader(open('/data/customers.csv'))})\n"
        "print(','.join(n))\n",
        {"customers.csv": DIRTY},
    ),
    BenchTask(
        "clean-emails",
        "cleaning",
        "Read /data/customers.csv (columns id, name, email, amount). Lower-case the emails and print the "
        "number of distinct emails as 'emails: N'.",
        [_seen("format", outputMatches=r"^emails: \d+$"), _hidden("answer", outputContains="emails: 4")],
        "import csv\ne={r['email'].lower() for r in csv.DictReader(open('/data/customers.csv'))}\n"
        "print(f'emails: {len(e)}')\n",
        {"customers.csv": DIRTY},
    ),
    BenchTask(
        "clean-write-csv",
        "cleaning",
        "Read /data/customers.csv (columns id, name, email, amount). Write /output/clean.csv with the same "
        "header, dropping rows whose amount is empty or not a number. Print 'kept N'.",
        [
            _seen("printed", outputContains="kept 3"),
            _hidden(
                "file",
                testScript="import csv\nr=list(csv.DictReader(open('clean.csv')))\n"
                "assert [x['id'] for x in r]==['1','3','5'], [x['id'] for x in r]\n",
            ),
        ],
        "import csv\nrd=csv.DictReader(open('/data/customers.csv'))\nkeep=[]\nfor r in rd:\n"
        "    try: float(r['amount']); keep.append(r)\n    except ValueError: pass\n"
        "w=csv.DictWriter(open('/output/clean.csv','w',newline=''),fieldnames=rd.fieldnames)\n"
        "w.writeheader(); w.writerows(keep)\nprint(f'kept {len(keep)}')\n",
        {"customers.csv": DIRTY},
    ),
    # --- JSON analysis ------------------------------------------------------------------------------------
    BenchTask(
        "json-order-totals",
        "json",
        "Read /data/orders.json: a list of orders with id, customer and items (each with sku, qty, price). "
        "Print each order's total (sum of qty * price) as 'order <id>: <total with 2 decimals>', by id.",
        [_seen("first", outputContains="order 1: 16.00"), _hidden("empty", outputContains="order 4: 0.00")],
        "import json\nfor o in sorted(json.load(open('/data/orders.json')),key=lambda o:o['id']):\n"
        "    print(f\"order {o['id']}: {sum(i['qty']*i['price'] for i in o['items']):.2f}\")\n",
        {"orders.json": ORDERS_JSON},
    ),
    BenchTask(
        "json-customer-spend",
        "json",
        "Read /data/orders.json (orders with customer and items of sku, qty, price). Print the customer "
        "who spent the most in total as 'best: <customer> <total with 2 decimals>'.",
        [
            _seen("format", outputMatches=r"^best: \w+ \d+\.\d\d$"),
            _hidden("answer", outputContains="best: acme 23.50"),
        ],
        "import json\nt={}\nfor o in json.load(open('/data/orders.json')):\n"
        "    t[o['customer']]=t.get(o['customer'],0)+sum(i['qty']*i['price'] for i in o['items'])\n"
        "b=max(t,key=t.get)\nprint(f'best: {b} {t[b]:.2f}')\n",
        {"orders.json": ORDERS_JSON},
    ),
    BenchTask(
        "json-sku-quantities",
        "json",
        "Read /data/orders.json (orders with items of sku, qty, price). Print the total quantity per sku as "
        "'<sku>=<qty>' lines, skus in alphabetical order.",
        [_seen("a", outputContains="A=7"), _hidden("c", outputContains="C=1")],
        "import json\nq={}\nfor o in json.load(open('/data/orders.json')):\n    for i in o['items']:\n"
        "        q[i['sku']]=q.get(i['sku'],0)+i['qty']\nfor s in sorted(q): print(f'{s}={q[s]}')\n",
        {"orders.json": ORDERS_JSON},
    ),
    BenchTask(
        "json-events-purchases",
        "json",
        "Read /data/events.jsonl (one JSON object per line with ts, user, action and, for purchases, "
        "amount). Print the total purchase amount per user as '<user>: <amount>', users in alphabetical "
        "order, only users with purchases.",
        [_seen("u1", outputContains="u1: 25"), _hidden("u2", outputContains="u2: 12")],
        "import json\nt={}\nfor l in open('/data/events.jsonl'):\n    e=json.loads(l)\n"
        "    if e['action']=='purchase': t[e['user']]=t.get(e['user'],0)+e['amount']\n"
        "for u in sorted(t): print(f'{u}: {t[u]}')\n",
        {"events.jsonl": EVENTS_JSONL},
    ),
    BenchTask(
        "json-events-per-hour",
        "json",
        "Read /data/events.jsonl (one JSON object per line with an ISO timestamp ts). Print the number of "
        "events per hour as 'HH:00 N', hours in order.",
        [_seen("ten", outputContains="10:00 3"), _hidden("twelve", outputContains="12:00 2")],
        "import json\nc={}\nfor l in open('/data/events.jsonl'):\n    h=json.loads(l)['ts'][11:13]\n"
        "    c[h]=c.get(h,0)+1\nfor h in sorted(c): print(f'{h}:00 {c[h]}')\n",
        {"events.jsonl": EVENTS_JSONL},
    ),
    BenchTask(
        "json-flatten-config",
        "json",
        "Read /data/config.json and print every leaf value with its dotted path as 'path=value', sorted by "
        "path; list elements use their index as the path part (for example workers.0.name=w1). Print "
        "booleans as true/false.",
        [
            _seen("port", outputContains="service.port=8080"),
            _hidden("nested", outputContains="service.tls.enabled=true"),
        ],
        "import json\ndef walk(p,v,out):\n    if isinstance(v,dict):\n"
        "        for k,x in v.items(): walk(p+[k],x,out)\n    elif isinstance(v,list):\n"
        "        for i,x in enumerate(v): walk(p+[str(i)],x,out)\n"
        "    else: out['.'.join(p)]=json.dumps(v) if isinstance(v,bool) else v\n"
        "o={}\nwalk([],json.load(open('/data/config.json')),o)\nfor k in sorted(o): print(f'{k}={o[k]}')\n",
        {"config.json": CONFIG_JSON},
    ),
    BenchTask(
        "json-grade-averages",
        "json",
        "Read /data/grades.json ({'students': [{'name', 'scores': [...]}]}). Print each student's average "
        "score with one decimal as '<name>: <avg>'; a student without scores gets '<name>: none'.",
        [_seen("ana", outputContains="ana: 84.0"), _hidden("none", outputContains="cy: none")],
        "import json\nfor s in json.load(open('/data/grades.json'))['students']:\n    sc=s['scores']\n"
        "    print(f\"{s['name']}: {sum(sc)/len(sc):.1f}\" if sc else f\"{s['name']}: none\")\n",
        {"grades.json": GRADES_JSON},
    ),
    # --- text processing ----------------------------------------------------------------------------------
    BenchTask(
        "text-word-count",
        "text",
        "Read /data/text.txt and print the three most frequent words (case-insensitive, letters only, so "
        "'dog.' counts as 'dog') as '<word> <count>' lines, most frequent first, ties broken alphabetically.",
        [_seen("first", outputMatches=r"^(a|dog|the) \d+$"), _hidden("dog", outputContains="dog 3")],
        "import re\nfrom collections import Counter\n"
        "c=Counter(re.findall('[a-z]+',open('/data/text.txt').read().lower()))\n"
        "for w,n in sorted(c.items(),key=lambda x:(-x[1],x[0]))[:3]: print(w,n)\n",
        {"text.txt": TEXT},
    ),
    BenchTask(
        "text-line-stats",
        "text",
        "Read /data/text.txt and print 'lines: N', 'words: N' and 'chars: N' (characters including "
        "newlines), each on its own line.",
        [_seen("lines", outputContains="lines: 2"), _hidden("words", outputContains="words: 25")],
        "t=open('/data/text.txt').read()\nprint(f'lines: {len(t.splitlines())}')\n"
        "print(f'words: {len(t.split())}')\nprint(f'chars: {len(t)}')\n",
        {"text.txt": TEXT},
    ),
    BenchTask(
        "text-log-errors",
        "text",
        "Read /data/app.log (lines 'date time LEVEL message'). Print the number of lines per level as "
        "'LEVEL: N', levels in alphabetical order, then the most common ERROR message as 'top error: <message>'.",
        [
            _seen("error-count", outputContains="ERROR: 3"),
            _hidden("top", outputContains="top error: db timeout"),
        ],
        "from collections import Counter\nc=Counter();e=Counter()\nfor l in open('/data/app.log'):\n"
        "    p=l.split(' ',3)\n    c[p[2]]+=1\n    if p[2]=='ERROR': e[p[3].strip()]+=1\n"
        "for k in sorted(c): print(f'{k}: {c[k]}')\nprint(f'top error: {e.most_common(1)[0][0]}')\n",
        {"app.log": LOG},
    ),
    BenchTask(
        "text-palindromes",
        "text",
        "Print every palindrome among these words, in the given order, one per line: level, python, radar, "
        "noon, code, refer, stats, agent.",
        [
            _seen("level", outputContains="level"),
            _hidden(
                "exact",
                testScript="import os\nout=open(os.environ['LEVEL5_STDOUT_FILE']).read().split()\n"
                "assert out==['level','radar','noon','refer','stats'], out\n",
            ),
        ],
        "for w in 'level python radar noon code refer stats agent'.split():\n    if w==w[::-1]: print(w)\n",
    ),
    BenchTask(
        "text-caesar",
        "text",
        "Decode the Caesar cipher 'Wkh djhqw ilahg lwv rzq exj' (each letter shifted forward by 3; keep "
        "spaces and case) and print the decoded sentence.",
        [
            _seen("starts", outputMatches=r"^The "),
            _hidden("plain", outputContains="The agent fixed its own bug"),
        ],
        "s='Wkh djhqw ilahg lwv rzq exj'\nprint(''.join(chr((ord(c)-(65 if c.isupper() else 97)-3)%26+"
        "(65 if c.isupper() else 97)) if c.isalpha() else c for c in s))\n",
    ),
    BenchTask(
        "text-title-case",
        "text",
        "Read /data/text.txt and print its first sentence (up to and including the first full stop) with "
        "every word capitalised.",
        [
            _seen("starts", outputMatches=r"^The Quick "),
            _hidden("whole", outputContains="The Quick Brown Fox Jumps Over The Lazy Dog."),
        ],
        "t=open('/data/text.txt').read()\nprint(t[:t.index('.')+1].title())\n",
        {"text.txt": TEXT},
    ),
    BenchTask(
        "text-vowels",
        "text",
        "Count the vowels (a, e, i, o, u, case-insensitive) in /data/text.txt and print 'vowels: N'.",
        [_seen("format", outputMatches=r"^vowels: \d+$"), _hidden("answer", outputContains="vowels: 33")],
        "print(f\"vowels: {sum(c in 'aeiou' for c in open('/data/text.txt').read().lower())}\")\n",
        {"text.txt": TEXT},
    ),
    # --- small algorithms ---------------------------------------------------------------------------------
    BenchTask(
        "algo-primes",
        "algorithms",
        "Print the prime numbers below 50 on one line, separated by single spaces.",
        [
            _seen("starts", outputMatches=r"^2 3 5 7 "),
            _hidden("all", outputContains="2 3 5 7 11 13 17 19 23 29 31 37 41 43 47"),
        ],
        "print(' '.join(str(n) for n in range(2,50) if all(n%d for d in range(2,n))))\n",
    ),
    BenchTask(
        "algo-fibonacci",
        "algorithms",
        "Print the first 15 Fibonacci numbers (starting 0 1) on one line separated by commas, no spaces.",
        [
            _seen("starts", outputMatches=r"^0,1,1,2,3,5"),
            _hidden("all", outputContains="0,1,1,2,3,5,8,13,21,34,55,89,144,233,377"),
        ],
        "a,b=0,1\nr=[]\nfor _ in range(15): r.append(a); a,b=b,a+b\nprint(','.join(map(str,r)))\n",
    ),
    BenchTask(
        "algo-binary-search",
        "algorithms",
        "Implement binary search on the sorted list [1, 3, 5, 7, 9, 11, 13, 15]. Print the index of 11 as "
        "'index of 11: N' and the result for 4, which is absent, as 'index of 4: -1'.",
        [_seen("absent", outputContains="index of 4: -1"), _hidden("found", outputContains="index of 11: 5")],
        "a=[1,3,5,7,9,11,13,15]\ndef f(x):\n    lo,hi=0,len(a)-1\n    while lo<=hi:\n        m=(lo+hi)//2\n"
        "        if a[m]==x: return m\n        if a[m]<x: lo=m+1\n        else: hi=m-1\n    return -1\n"
        "print(f'index of 11: {f(11)}')\nprint(f'index of 4: {f(4)}')\n",
    ),
    BenchTask(
        "algo-matrix",
        "algorithms",
        "Multiply the matrices [[1, 2], [3, 4]] and [[5, 6], [7, 8]] without libraries and print each row "
        "of the result as space-separated numbers.",
        [_seen("first-row", outputContains="19 22"), _hidden("second-row", outputContains="43 50")],
        "a=[[1,2],[3,4]];b=[[5,6],[7,8]]\nfor r in a: print(' '.join(str(sum(r[k]*b[k][j] for k in range(2))) "
        "for j in range(2)))\n",
    ),
    BenchTask(
        "algo-gcd-lcm",
        "algorithms",
        "Compute the greatest common divisor and the least common multiple of 84 and 120 and print "
        "'gcd=N lcm=M'.",
        [
            _seen("format", outputMatches=r"^gcd=\d+ lcm=\d+$"),
            _hidden("answer", outputContains="gcd=12 lcm=840"),
        ],
        "import math\nprint(f'gcd={math.gcd(84,120)} lcm={84*120//math.gcd(84,120)}')\n",
    ),
    BenchTask(
        "algo-roman",
        "algorithms",
        "Convert the numbers 1994, 2024 and 49 to Roman numerals and print one per line as '<n> = <roman>'.",
        [_seen("first", outputContains="1994 = MCMXCIV"), _hidden("others", outputContains="49 = XLIX")],
        "def r(n):\n    s=''\n    for v,c in [(1000,'M'),(900,'CM'),(500,'D'),(400,'CD'),(100,'C'),(90,'XC'),"
        "(50,'L'),(40,'XL'),(10,'X'),(9,'IX'),(5,'V'),(4,'IV'),(1,'I')]:\n"
        "        while n>=v: s+=c; n-=v\n    return s\nfor n in (1994,2024,49): print(f'{n} = {r(n)}')\n",
    ),
    BenchTask(
        "algo-anagrams",
        "algorithms",
        "Group these words into anagram groups: listen, silent, enlist, google, gooegl, cat, act, tac, dog. "
        "Print each group's words sorted and comma-separated, one group per line, groups ordered by their "
        "first word.",
        [
            _seen("cats", outputContains="act,cat,tac"),
            _hidden("listen", outputContains="enlist,listen,silent"),
        ],
        "g={}\nfor w in 'listen silent enlist google gooegl cat act tac dog'.split():\n"
        "    g.setdefault(''.join(sorted(w)),[]).append(w)\n"
        "for grp in sorted(sorted(v) for v in g.values()): print(','.join(grp))\n",
    ),
]
