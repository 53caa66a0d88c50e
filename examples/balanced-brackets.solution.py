import sys

PAIRS = {")": "(", "]": "[", "}": "{"}


def balanced(s: str) -> bool:
    stack = []
    for ch in s:
        if ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
        else:
            stack.append(ch)
    return not stack


def main() -> None:
    data = sys.stdin.read().split()
    t = int(data[0])
    print("\n".join("YES" if balanced(s) else "NO" for s in data[1 : 1 + t]))


main()
