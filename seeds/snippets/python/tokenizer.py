"""Tokenize arithmetic expressions and evaluate them with the shunting-yard algorithm."""

import operator
import re
from typing import NamedTuple

TOKEN_RE = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>\*\*|[-+*/%()]))"
)
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "**": 3}
RIGHT_ASSOC = {"**"}
OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
    "**": operator.pow,
}


class Token(NamedTuple):
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise SyntaxError(f"unexpected character {text[pos]!r} at {pos}")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


def to_postfix(tokens: list[Token]) -> list[Token]:
    output: list[Token] = []
    stack: list[Token] = []
    for token in tokens:
        if token.kind in ("number", "name"):
            output.append(token)
        elif token.text == "(":
            stack.append(token)
        elif token.text == ")":
            while stack and stack[-1].text != "(":
                output.append(stack.pop())
            if not stack:
                raise SyntaxError(f"unbalanced ')' at {token.pos}")
            stack.pop()
        else:
            prec = PRECEDENCE[token.text]
            while stack and stack[-1].text != "(":
                top = PRECEDENCE[stack[-1].text]
                if top > prec or (top == prec and token.text not in RIGHT_ASSOC):
                    output.append(stack.pop())
                else:
                    break
            stack.append(token)
    while stack:
        token = stack.pop()
        if token.text == "(":
            raise SyntaxError(f"unbalanced '(' at {token.pos}")
        output.append(token)
    return output


def evaluate(text: str, variables: dict[str, float] | None = None) -> float:
    variables = variables or {}
    stack: list[float] = []
    for token in to_postfix(tokenize(text)):
        if token.kind == "number":
            stack.append(float(token.text))
        elif token.kind == "name":
            if token.text not in variables:
                raise NameError(f"unknown variable {token.text!r}")
            stack.append(variables[token.text])
        else:
            if len(stack) < 2:
                raise SyntaxError(f"missing operand for {token.text!r} at {token.pos}")
            right = stack.pop()
            left = stack.pop()
            stack.append(OPERATORS[token.text](left, right))
    if len(stack) != 1:
        raise SyntaxError("malformed expression")
    return stack[0]


if __name__ == "__main__":
    print(evaluate("2 * (x + 3) ** 2 / 4", {"x": 1.0}))
