"""A host for OpenQASM extern functions, for mec's tests: one JSON request
a line on standard input, one JSON answer a line on standard output.

majority(bit[n]) -> bit: the majority of the bits (a string, most
significant first). Anything else is an error answer."""
import json
import sys

for line in sys.stdin:
    req = json.loads(line)
    if req["name"] == "majority":
        bits = req["args"][0]["value"]
        ans = {"value": "1" if 2 * bits.count("1") > len(bits) else "0"}
    else:
        ans = {"error": "no function " + req["name"]}
    print(json.dumps(ans), flush=True)
