"""The compiled fast path of the NTU `.skeleton` parser (numba), used by `ntu_skeleton`.

`parse` locates first and converts afterwards (the idea of simdjson), with vector registers:

1. Lines (`_index_lines`): one pass over the file, 64 bytes at a time. Two vector compares give
   a bitmask of its separators (the bytes bytes.split() splits on) and one of its newlines; a
   token starts at a non-separator after a separator. For every newline the offset and the
   number of tokens before it are recorded, so the number of fields on a line is a subtraction.
2. Structure (`parse`): the counts (frames, bodies per frame, the joint count 25) and the body
   ids are read, and the number of fields of every line is checked: 1 on count lines, 10 on a
   body's info line, 12 on each of its 25 joint lines. Then a body entry is the 311 tokens from
   the start of its info line. The entries are grouped into tracks (`_tracks`, the rule of
   `ntu_skeleton._group_bodies`, which the exact path uses; tests compare the two), so that
   each entry's values go straight to its row in track order.
3. Numbers (`_convert_entry`), entry by entry: its 311 token starts are found again
   (`_index_tokens`: the same masks; a block's starts are packed by one vector compress where
   the CPU has one, else by walking the set bits) into a buffer that stays in the L1 cache, as
   does the entry's text. Then its numbers are converted 8 at a time, in three passes over
   groups of 8 tokens: `_words8` gathers each token's first 16 bytes; `_digits8` finds the
   sign, the point and the end with bit tricks on 8-byte words (SWAR) and lines the digits up;
   `_values8_*` makes them one integer m < 10^8 (three multiply-and-shift steps) and the value
   m / 10^k: one correctly rounded IEEE division of two exact doubles (Clinger's fast path),
   the same double that float() gives. A whole part "0" and the zeros after its point are
   dropped first, so the 7 significant digits of "%.7g" numbers fit, -0.2059419 and 0.001039113
   too. A token the vector lanes do not take (a sign '+', an exponent, more than 8 significant
   digits, more than 15 bytes, within 16 bytes of the end of the file) goes to `_slow_number`,
   digit by digit and just as exact for up to 18 digits and an exponent within 22.

Whatever neither takes (a 19th digit, "nan", a count spelled "25.0", a wrong number of fields,
a blank line inside) makes `parse` give up: the caller then parses the file on the exact path,
which accepts the same files and words the one-line error.

Why this shape: one number at a time, the 8-byte conversion took about 120 instructions, and
converting numbers already located (independent of each other) one by one was measured no
faster than the serial loop: the cost was the work per number. With 8 lanes per vector
instruction it is about 12 instructions per number. The conversion is split into passes
because in one pass each group of 8 was one long chain of latencies (gathers, bit tricks,
division) and the CPU kept barely one group in flight. LLVM lowers the vector IR to AVX-512 or
AVX2 instructions where the CPU has them and to plain ones elsewhere; results do not depend on
it.

Helpers called in hot loops take addresses rather than arrays: numba reference-counts the
arrays passed to a helper (atomic operations that, per block or per number, cost more than the
work). An address alone does not keep its array alive, so one is taken only where the array is
used again later (see `_address`). fastmath is not used: it would allow the division to be
replaced by an inexact multiplication.

Importing this module imports numba, so the parser imports it on first use only.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

NUM_INFO, NUM_JOINT_FIELDS, NUM_JOINTS = 10, 12, 25
OK, GIVE_UP = 0, 1
_JOINT_VALUES = NUM_JOINTS * NUM_JOINT_FIELDS
# Every body entry is an info line, a count line and 25 joint lines: this many tokens, which
# bounds the number of entries, so outputs are allocated once.
_ENTRY_TOKENS = NUM_INFO + 1 + _JOINT_VALUES
_MAX_DIGITS = 18  # an int64 mantissa holds any 18-digit number
_POW10 = np.array([10.0 ** k for k in range(23)])  # all exactly representable as doubles

_BLOCK = 64  # bytes per step of the index (one bitmask word)
_UNROLL = 16  # token starts written per block without a branch (a block holds about 8)
_LINE_PAD = 32  # line index entries past the last line, so a body's 27 lines can be read ahead
_LANES = 8  # numbers converted together
_READ_AHEAD = 16  # the vector conversion reads 16 bytes from a token's start

_ZEROS = 0x3030303030303030  # '0' in every byte
_HIGH_BITS = 0x8080808080808080
_TO_HIGH_BIT = 0x7676767676767676  # 10 + 0x76 = 0x80: sets bit 7 for values >= 10
_MASK8 = 0xFFFFFFFFFFFFFFFF


# ---- raw memory access (bounds are checked by the callers) -------------------------------------

@intrinsic
def _peek(typingctx, address, offset):
    """The byte at address + offset."""
    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(builder.add(args[0], args[1]), ir.IntType(8).as_pointer())
        return builder.load(pointer)
    return types.uint8(types.intp, types.intp), codegen


@intrinsic
def _peek32(typingctx, address, index):
    """The int32 at address + 4 * index, as an intp."""
    def codegen(context, builder, signature, args):
        offset = builder.mul(args[1], ir.Constant(ir.IntType(64), 4))
        pointer = builder.inttoptr(builder.add(args[0], offset), ir.IntType(32).as_pointer())
        return builder.sext(builder.load(pointer, align=4), ir.IntType(64))
    return types.intp(types.intp, types.intp), codegen


@intrinsic
def _store(typingctx, address, value):
    """Write value (any number type) at address."""
    def codegen(context, builder, signature, args):
        pointer_type = context.get_value_type(signature.args[1]).as_pointer()
        builder.store(args[1], builder.inttoptr(args[0], pointer_type), align=1)
        return context.get_dummy_value()
    return types.void(types.intp, value), codegen


def _address(context, builder, value_type, value):
    """IR: an address as an i64, given as one (an integer) or as an array (its first
    element's). Intrinsics may take arrays without cost: numba reference-counts the arrays
    passed to a helper function (atomic operations that, per block or per number, cost more
    than the work), and an address alone does not keep an array alive (numba frees an array
    after its last use: the caller must use it later, e.g. in the same loop)."""
    if isinstance(value_type, types.Array):
        value = context.make_array(value_type)(context, builder, value).data
        return builder.ptrtoint(value, ir.IntType(64))
    return value


@intrinsic
def _trailing_zeros(typingctx, value):
    """Count of trailing zero bits; 64 for 0."""
    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))
    return types.uint64(types.uint64), codegen


@intrinsic
def _popcount(typingctx, value):
    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])
    return types.uint64(types.uint64), codegen


# ---- step 1: the line index (and the token index of an entry, for step 3) ---------------------

@intrinsic
def _separators_and_newlines(typingctx, data, offset):
    """Two bitmasks of the 64 bytes at offset of data (an array or an address), bit k for byte
    k: the bytes bytes.split() splits on (space, \\t \\n \\v \\f \\r), and the newlines."""
    def codegen(context, builder, signature, args):
        block_type = ir.VectorType(ir.IntType(8), _BLOCK)

        def splat(c):
            return ir.Constant(block_type, [c] * _BLOCK)

        address = builder.add(_address(context, builder, signature.args[0], args[0]), args[1])
        block = builder.load(builder.inttoptr(address, block_type.as_pointer()), align=1)
        controls = builder.icmp_unsigned("<=", builder.sub(block, splat(9)), splat(13 - 9))
        separators = builder.or_(builder.icmp_unsigned("==", block, splat(32)), controls)
        newlines = builder.icmp_unsigned("==", block, splat(10))
        masks = [builder.bitcast(bits, ir.IntType(_BLOCK)) for bits in (separators, newlines)]
        return context.make_tuple(builder, signature.return_type, masks)
    return types.UniTuple(types.uint64, 2)(data, types.intp), codegen


def _target_has(feature):
    """Whether numba compiles for a CPU with this LLVM feature: the host, unless NUMBA_CPU_NAME
    names another (then only NUMBA_CPU_FEATURES count)."""
    from llvmlite import binding
    from numba.core import config
    if config.CPU_NAME is None:
        return bool(binding.get_host_cpu_features().get(feature, False))
    return f"+{feature}" in (config.CPU_FEATURES or "").split(",")


# A vector compress packs a block's token starts in one instruction where the CPU has one for
# bytes (AVX-512 VBMI2); elsewhere LLVM would expand it into slow scalar code, and the set
# bits are walked instead.
_COMPRESS = _target_has("avx512vbmi2")


@intrinsic
def _compress_positions(typingctx, bits, base, address):
    """Write base + k for every set bit k of bits, in order, as int32s at address: the first
    16 always (slots past the count are garbage, overwritten later or never read), all 64 only
    when more bits are set. One vector compress of the offsets 0-63."""
    def codegen(context, builder, signature, args):
        bits, base, address = args
        b, i32 = builder, ir.IntType(32)
        offsets_type, sixteen = ir.VectorType(ir.IntType(8), _BLOCK), ir.VectorType(i32, 16)
        compress = b.module.declare_intrinsic(
            f"llvm.experimental.vector.compress.v{_BLOCK}i8", (), ir.FunctionType(
                offsets_type, [offsets_type, ir.VectorType(ir.IntType(1), _BLOCK),
                               offsets_type]))
        packed = b.call(compress, [ir.Constant(offsets_type, list(range(_BLOCK))),
                                   b.bitcast(bits, ir.VectorType(ir.IntType(1), _BLOCK)),
                                   ir.Constant(offsets_type, None)])
        one = b.insert_element(ir.Constant(sixteen, None), b.trunc(base, i32),
                               ir.Constant(i32, 0))
        bases = b.shuffle_vector(one, ir.Constant(sixteen, None),
                                 ir.Constant(sixteen, [0] * 16))

        def write(part):  # positions 16 * part .. 16 * part + 15
            offsets = b.shuffle_vector(packed, ir.Constant(offsets_type, None),
                                       ir.Constant(sixteen, list(range(16 * part, 16 * part + 16))))
            pointer = b.inttoptr(b.add(address, ir.Constant(ir.IntType(64), 64 * part)),
                                 sixteen.as_pointer())
            b.store(b.add(b.zext(offsets, sixteen), bases), pointer, align=4)

        write(0)
        with b.if_then(b.icmp_unsigned(">", b.ctpop(bits), ir.Constant(ir.IntType(64), 16)),
                       likely=False):
            for part in (1, 2, 3):
                write(part)
        return context.get_dummy_value()
    return types.void(types.uint64, types.intp, types.intp), codegen


@njit(inline="always")
def _starts(separators, carry):
    """(token starts, carry for the next block) of a block with these separators (bit k for
    byte k): a token starts at a non-separator after a separator; carry is 1 if the byte before
    the block is a separator."""
    return ~separators & ((separators << np.uint64(1)) | carry), separators >> np.uint64(_BLOCK - 1)


@njit(cache=True)
def _index_lines(data, ends, before):
    """The line index: ends[k] = offset of newline k, and before[k] = the number of tokens
    before line k (before[0] = 0; line k holds tokens before[k] .. before[k + 1] - 1), then
    _LINE_PAD copies of the token count past the last line (the line that the last newline
    ends, or that the end of the file does). Returns (token count, newline count), or newline
    count -1 if the arrays are too short: they need _BLOCK + _LINE_PAD + 2 slots more than
    the newline count."""
    n, limit = len(data), len(ends) - _BLOCK - _LINE_PAD - 2
    carry, num_tokens, num_lines = np.uint64(1), 0, 0  # a token may start at byte 0
    tail = np.full(_BLOCK, 32, np.uint8)  # the last bytes, padded with spaces
    full = n - n % _BLOCK
    tail[: n - full] = data[full:]
    for base in range(0, n, _BLOCK):
        if base < full:
            separators, newlines = _separators_and_newlines(data, base)
        else:  # reads stay inside the buffer
            separators, newlines = _separators_and_newlines(tail, 0)
        starts, carry = _starts(separators, carry)
        # A block mostly holds 0 or 1 newlines: the first is written unconditionally (slots
        # past the count are overwritten later) and only more loop, as a data-dependent
        # branch per block would mispredict often.
        while True:
            below = (newlines & (np.uint64(0) - newlines)) - np.uint64(1)
            ends[num_lines] = base + np.intp(_trailing_zeros(newlines))
            before[num_lines + 1] = num_tokens + np.intp(_popcount(starts & below))
            num_lines += newlines != 0
            newlines &= newlines - np.uint64(1)
            if not newlines:
                break
        num_tokens += np.intp(_popcount(starts))
        if num_lines > limit:
            return 0, -1
    before[0] = 0
    before[num_lines + 1: num_lines + 2 + _LINE_PAD] = num_tokens
    return num_tokens, num_lines


@njit(inline="always")
def _index_tokens(buf, n, start, count, positions, compress):
    """Write the starts of the first `count` tokens at or after offset `start` (a line start,
    or any offset after a separator) of the n-byte buffer at address buf, as int32s at address
    `positions` (room for count + 64). Returns how many it found (count, or fewer at the end)."""
    found, carry, base = 0, np.uint64(1), start
    while found < count and base < n:
        if base + _BLOCK <= n:
            separators, _ = _separators_and_newlines(buf, base)
        else:  # the last bytes, padded with spaces: reads stay inside the buffer
            tail = np.full(_BLOCK, 32, np.uint8)
            for k in range(n - base):
                tail[k] = _peek(buf, base + k)
            separators, _ = _separators_and_newlines(tail, 0)
        starts, carry = _starts(separators, carry)
        address = positions + 4 * found
        found += np.intp(_popcount(starts))
        if compress:
            _compress_positions(starts, base, address)
        else:
            # _UNROLL starts are written whatever their number (slots past it are garbage,
            # overwritten later or never read); only the rare denser block loops for the rest.
            for k in range(_UNROLL):
                _store(address + 4 * k, np.int32(base + np.intp(_trailing_zeros(starts))))
                starts &= starts - np.uint64(1)
            address += 4 * _UNROLL
            while starts:
                _store(address, np.int32(base + np.intp(_trailing_zeros(starts))))
                starts &= starts - np.uint64(1)
                address += 4
        base += _BLOCK
    return found


# ---- step 3: numbers, 8 at a time ---------------------------------------------------------------

class _Lanes:
    """Emits LLVM IR on vectors of _LANES 64-bit lanes (generic IR: LLVM picks the
    instructions the CPU has)."""

    i1, i32, i64 = ir.IntType(1), ir.IntType(32), ir.IntType(64)
    ints = ir.VectorType(i64, _LANES)
    flags = ir.VectorType(i1, _LANES)
    doubles = ir.VectorType(ir.DoubleType(), _LANES)

    def __init__(self, builder):
        self.b = builder

    def const(self, c):
        return ir.Constant(self.ints, [c] * _LANES)

    def splat(self, scalar):
        one = self.b.insert_element(ir.Constant(self.ints, ir.Undefined), scalar,
                                    ir.Constant(self.i32, 0))
        return self.b.shuffle_vector(one, ir.Constant(self.ints, ir.Undefined),
                                     ir.Constant(ir.VectorType(self.i32, _LANES), [0] * _LANES))

    def call(self, name, result, *operands):
        fn = self.b.module.declare_intrinsic(name, (), ir.FunctionType(
            result, [x.type for x in operands]))
        return self.b.call(fn, operands)

    def load(self, address, element_type):
        vector_type = ir.VectorType(element_type, _LANES)
        return self.b.load(self.b.inttoptr(address, vector_type.as_pointer()), align=1)

    def store(self, address, value):
        self.b.store(value, self.b.inttoptr(address, value.type.as_pointer()), align=1)

    def gather(self, addresses, element_type=None, align=1):
        """The value at each lane's address (8-byte ints by default, any alignment)."""
        vector_type = ir.VectorType(element_type, _LANES) if element_type else self.ints
        kind = "f64" if element_type else "i64"
        pointers = self.b.inttoptr(addresses, ir.VectorType(ir.PointerType(), _LANES))
        return self.call(f"llvm.masked.gather.v{_LANES}{kind}.v{_LANES}p0", vector_type,
                         pointers, ir.Constant(self.i32, align),
                         ir.Constant(self.flags, [1] * _LANES), ir.Constant(vector_type, None))

    def is_(self, x, c):
        return self.b.icmp_unsigned("==", x, self.const(c))

    def below(self, x, c):
        return self.b.icmp_unsigned("<", x, self.const(c))

    def window(self, lo, hi, k):
        """The 8 bytes from byte k (0-7) of the 16 bytes hi:lo."""
        return self.call(f"llvm.fshr.v{_LANES}i64", self.ints, hi, lo,
                         self.b.shl(k, self.const(3)))

    def first_marked(self, marks):
        """Index of the first byte whose bit 7 is set in marks (8 if none)."""
        zeros = self.call(f"llvm.cttz.v{_LANES}i64", self.ints, marks, ir.Constant(self.i1, 0))
        return self.b.lshr(zeros, self.const(3))

    def first_non_digit(self, x):
        x = self.b.xor(x, self.const(_ZEROS))
        b, c = self.b, self.const
        return self.first_marked(b.and_(b.or_(b.add(x, c(_TO_HIGH_BIT)), x), c(_HIGH_BITS)))

    def first_non_zero(self, x):
        """Index of the first byte that is not '0' (8 if none)."""
        x = self.b.xor(x, self.const(_ZEROS))
        b, c = self.b, self.const
        low7 = c(~_HIGH_BITS & _MASK8)
        return self.first_marked(b.and_(b.or_(b.add(b.and_(x, low7), low7), x), c(_HIGH_BITS)))

    def mask(self, flags):
        """One bit per lane."""
        return self.b.zext(self.b.bitcast(flags, ir.IntType(_LANES)), self.i64)


def _words8_codegen(context, builder, signature, args):
    """IR of `_words8`."""
    buf, n, positions, words = args
    v, b = _Lanes(builder), builder
    c = v.const
    start = b.zext(v.load(positions, v.i32), v.ints)
    # Tokens near the end are read at offset 0 instead (and left to the scalar path).
    safe = b.icmp_unsigned("<=", start, v.splat(b.sub(n, ir.Constant(v.i64, _READ_AHEAD))))
    address = b.add(v.splat(buf), b.select(safe, start, c(0)))
    for k, value in enumerate((v.gather(address), v.gather(b.add(address, c(8))),
                               b.zext(safe, v.ints))):
        v.store(b.add(words, ir.Constant(v.i64, 8 * _LANES * k)), value)
    return context.get_dummy_value()


def _digits8_codegen(context, builder, signature, args):
    """IR of `_digits8`: per token its digits (one digit value per byte, first in the lowest)
    and the power of ten to divide by."""
    words, scratch = args
    v, b = _Lanes(builder), builder
    c = v.const
    # The token's first 16 bytes. A longer token is seen followed by zero bytes, which are
    # not separators: it is left to the scalar path.
    w0, w1, safe = [v.load(b.add(words, ir.Constant(v.i64, 8 * _LANES * k)), v.i64)
                    for k in range(3)]
    safe = b.icmp_unsigned("!=", safe, c(0))
    neg = v.is_(b.and_(w0, c(0xFF)), ord("-"))
    sign = b.zext(neg, v.ints)
    u = v.window(w0, w1, sign)  # from the first digit
    a = v.first_non_digit(u)  # whole digits; the point or the end follows
    after_whole = b.and_(b.lshr(u, b.shl(b.and_(a, c(7)), c(3))), c(0xFF))
    point = v.is_(after_whole, ord("."))
    # A whole part "0" is dropped, and then the fraction's leading zeros (up to 6, as many
    # as u shows), so that all 7 digits of "%.7g" numbers such as -0.2059419 or 0.001039113
    # fit in 8 bytes. (Zeros past those 6 are kept as digits: exact all the same.)
    zero = b.and_(point, b.and_(v.is_(a, 1), v.is_(b.and_(u, c(0xFF)), ord("0"))))
    whole = b.sub(a, b.zext(zero, v.ints))
    skip = b.select(zero, v.first_non_zero(b.lshr(u, c(16))), c(0))
    after = b.add(b.add(b.add(sign, a), c(1)), skip)  # offset of the fraction digits, 1-10
    low = v.below(after, 8)
    f = v.window(b.select(low, w0, w1), b.select(low, w1, c(0)), b.and_(after, c(7)))
    frac = b.select(point, v.first_non_digit(f), c(0))  # fraction digits (after the skip)
    frac8 = b.shl(b.and_(frac, c(7)), c(3))
    # The byte after the number must be a separator: the token holds nothing else.
    t = b.select(point, b.and_(b.lshr(f, frac8), c(0xFF)), after_whole)
    separator = b.or_(v.is_(t, 32), b.icmp_unsigned("<=", b.sub(t, c(9)), c(13 - 9)))
    digits = b.add(whole, frac)
    ok = b.and_(b.and_(safe, separator), b.and_(
        b.and_(v.below(b.or_(a, frac), 8), b.icmp_unsigned("<=", digits, c(8))),
        b.icmp_unsigned("!=", b.or_(b.or_(a, frac), skip), c(0))))  # some digit
    # The digit values, whole then fraction digits, left-aligned and zero-padded to 8: they
    # spell m = d1..dk * 10^(8 - k), and the value d1..dk / 10^(frac + skip) is
    # m / 10^(8 - whole + skip).
    whole8 = b.shl(b.and_(whole, c(7)), c(3))
    ones = c(_MASK8)
    values = b.or_(b.and_(b.xor(u, c(_ZEROS)), b.xor(b.shl(ones, whole8), ones)),
                   b.shl(b.and_(b.xor(f, c(_ZEROS)), b.xor(b.shl(ones, frac8), ones)), whole8))
    power = b.or_(b.add(b.sub(c(8), whole), skip), b.shl(sign, c(8)))
    v.store(scratch, values)
    v.store(b.add(scratch, ir.Constant(v.i64, 8 * _LANES)), power)
    return v.mask(b.not_(ok))


def _values8_codegen(element):
    """IR of `_values8_double` and `_values8_float`, storing element (double or float)."""
    def codegen(context, builder, signature, args):
        scratch, out = args
        v, b = _Lanes(builder), builder
        c = v.const
        x = v.load(scratch, v.i64)
        power = v.load(b.add(scratch, ir.Constant(v.i64, 8 * _LANES)), v.i64)
        # The digits as one integer m < 10^8 in three multiply-and-shift steps; the last
        # needs only the low 32 bits of its product.
        x = b.and_(b.add(b.mul(x, c(10)), b.lshr(x, c(8))), c(0x00FF00FF00FF00FF))
        x = b.and_(b.add(b.mul(x, c(100)), b.lshr(x, c(16))), c(0x0000FFFF0000FFFF))
        x = b.and_(b.add(b.mul(b.and_(x, c(0xFFFF)), c(10000)), b.lshr(x, c(32))),
                   c(0xFFFFFFFF))
        # m and 10^k are exact doubles: one correctly rounded division, as float() gives.
        table = b.ptrtoint(_pow10_table(b.module), v.i64)
        divisor = v.gather(b.add(v.splat(table), b.shl(b.and_(power, c(31)), c(3))),
                           ir.DoubleType(), 8)
        value = b.fdiv(b.uitofp(x, v.doubles), divisor)
        value = b.select(b.icmp_unsigned("!=", b.and_(power, c(256)), c(0)), b.fneg(value),
                         value)
        if not isinstance(element, ir.DoubleType):
            value = b.fptrunc(value, ir.VectorType(element, _LANES))
        b.store(value, b.inttoptr(out, value.type.as_pointer()), align=1)
        return context.get_dummy_value()
    return codegen


def _pow10_table(module):
    """10^0 .. 10^31, all exact doubles up to 10^22 (only 10^0 .. 10^16 are used)."""
    name = "_ntu_skeleton_pow10"
    if name not in module.globals:
        table_type = ir.ArrayType(ir.DoubleType(), 32)
        table = ir.GlobalVariable(module, table_type, name)
        table.initializer = ir.Constant(table_type, [10.0 ** k for k in range(32)])
        table.global_constant, table.linkage = True, "internal"
    return module.globals[name]


@intrinsic
def _words8(typingctx, buf, n, positions, words):
    """First of the three steps converting 8 tokens: gathers the first 16 bytes of each token
    whose start is one of the 8 int32s at address positions (in the n-byte buffer at address
    buf) into 3 x 8 uint64 at address words (with a flag: not too near the end). Each step
    is a pass of its own: a shorter chain of latencies than the whole conversion, so that more
    groups of 8 are in flight at once."""
    return types.void(types.intp, types.intp, types.intp, types.intp), _words8_codegen


@intrinsic
def _digits8(typingctx, words, scratch):
    """Second step: from `_words8`'s words, writes the 8 tokens' digits and powers of ten
    (2 x 8 uint64) at address scratch for `_values8_*`, and returns the bitmask of the lanes
    it does not take (left to `_slow_number`)."""
    return types.uint64(types.intp, types.intp), _digits8_codegen


@intrinsic
def _values8_double(typingctx, scratch, out):
    """Third step: the 8 values from `_digits8`'s scratch, as float64 at address out."""
    return types.void(types.intp, types.intp), _values8_codegen(ir.DoubleType())


@intrinsic
def _values8_float(typingctx, scratch, out):
    """Third step: the 8 values from `_digits8`'s scratch, as float32 at address out."""
    return types.void(types.intp, types.intp), _values8_codegen(ir.FloatType())


# Scalar: counts and body ids, and the numbers the vector lanes do not take.

@njit(inline="always")
def _is_blank(c):
    """bytes.split() separators other than the newline."""
    return c == 32 or c == 13 or c == 9 or c == 11 or c == 12


@njit(inline="always")
def _skip_blanks(buf, i, n):
    while i < n and _is_blank(_peek(buf, i)):
        i += 1
    return i


@njit(cache=True)
def _slow_number(buf, i, n):
    """Any decimal float() reads the same way, after leading blanks: [sign] digits [. digits]
    [e [sign] digits], at most 18 digits and a power of ten within 22. Returns (value, index
    after it), or end -1 to give up (no number before the line end, or an unusual one)."""
    i = _skip_blanks(buf, i, n)
    if i >= n:
        return 0.0, -1
    neg = _peek(buf, i) == 45  # -
    i += neg or _peek(buf, i) == 43  # +
    start, mantissa, frac, point = i, np.int64(0), 0, False
    while i < n:
        c = _peek(buf, i)
        if 48 <= c <= 57:
            mantissa = mantissa * 10 + (np.int64(c) - 48)
            frac += point
        elif c == 46 and not point:  # .
            point = True
        else:
            break
        i += 1
    digits = i - start - point
    if digits == 0 or digits > _MAX_DIGITS:
        return 0.0, -1
    scale = -frac
    if i < n and (_peek(buf, i) == 101 or _peek(buf, i) == 69):  # e E
        i += 1
        exp_neg = i < n and _peek(buf, i) == 45
        if i < n and (_peek(buf, i) == 45 or _peek(buf, i) == 43):
            i += 1
        exp_start, exponent = i, 0
        while i < n and 48 <= _peek(buf, i) <= 57 and i - exp_start < 4:
            exponent = exponent * 10 + (np.int64(_peek(buf, i)) - 48)
            i += 1
        if i == exp_start:
            return 0.0, -1
        scale += -exponent if exp_neg else exponent
    if i < n and not (_is_blank(_peek(buf, i)) or _peek(buf, i) == 10):
        return 0.0, -1
    # Exact operands, so one correctly rounded operation (with scale 0, the int64 -> double
    # conversion rounds correctly at any size).
    if scale > 0:
        if scale > 22 or mantissa > 2 ** 53:
            return 0.0, -1
        value = mantissa * _POW10[scale]
    else:
        if scale < -22 or (scale != 0 and mantissa > 2 ** 53):
            return 0.0, -1
        value = mantissa / _POW10[-scale]
    return (-value if neg else value), i


@njit(cache=True)
def _integer(buf, i, n):
    """Plain unsigned digits after leading blanks (counts, body ids): (value, end) or end -1."""
    i = _skip_blanks(buf, i, n)
    start, value = i, np.int64(0)
    while i < n and 48 <= _peek(buf, i) <= 57:
        value = value * 10 + (np.int64(_peek(buf, i)) - 48)
        i += 1
    if i == start or i - start > _MAX_DIGITS or (
            i < n and not (_is_blank(_peek(buf, i)) or _peek(buf, i) == 10)):
        return 0, -1
    return value, i


@njit(inline="always")
def _group_start(g):
    """The first token of group g of an entry's 8-token groups: tokens 1-8 and 2-9 (the info
    values after the id) and 11-18, 19-26, ..., 295-302, 303-310 (the joint values after the
    count); groups overlap rather than being partial."""
    return g + 1 if g < 2 else min(_LANES * g - 5, _ENTRY_TOKENS - _LANES)


_GROUPS = 2 + (_JOINT_VALUES + _LANES - 1) // _LANES  # 40


@njit(inline="always")
def _convert_entry(buf, n, positions, info, joints, scratch):
    """Convert an entry's numbers: the tokens whose starts are the _ENTRY_TOKENS int32s at
    address positions (its info line, count line and joint lines) into its 9 info values
    after the id (float64 at address info + 8) and 300 joint values (float32 at address
    joints); scratch: the address of 2048 uint64s. Returns False to give up."""
    # Three passes over the groups (see `_words8`). Groups that missed a lane are noted (bit
    # g) and done again after the loops: a call inside one made the compiler save and restore
    # vector registers on every pass.
    words = scratch + 16 * _LANES * _GROUPS
    for g in range(_GROUPS):
        _words8(buf, n, positions + 4 * _group_start(g), words + 24 * _LANES * g)
    missed = np.uint64(0)
    for g in range(_GROUPS):
        lanes = _digits8(words + 24 * _LANES * g, scratch + 16 * _LANES * g)
        missed |= np.uint64(lanes != 0) << np.uint64(g)
    for g in range(2):
        _values8_double(scratch + 16 * _LANES * g, info + 8 * _group_start(g))
    for g in range(2, _GROUPS):
        first = _group_start(g)
        _values8_float(scratch + 16 * _LANES * g, joints + 4 * (first - NUM_INFO - 1))
    while missed:
        g = np.intp(_trailing_zeros(missed))
        missed &= missed - np.uint64(1)
        first = _group_start(g)
        lanes = _digits8(words + 24 * _LANES * g, scratch)
        while lanes:
            token = first + np.intp(_trailing_zeros(lanes))
            lanes &= lanes - np.uint64(1)
            value, end = _slow_number(buf, _peek32(positions, token), n)
            if end < 0:
                return False
            if token < NUM_INFO:
                _store(info + 8 * token, value)
            else:
                _store(joints + 4 * (token - NUM_INFO - 1), np.float32(value))
    return True


# ---- step 2: the structure; the whole parse ------------------------------------------------------

@njit(inline="always")
def _line_start(ends, line):
    """The offset of line `line` (newline `line - 1` ends the one before)."""
    return ends[line - 1] + 1 if line else 0


@njit(cache=True)
def parse(data):
    """(status, frames, entries, bodies_per_frame, frame_of, info, joints, track_ids,
    track_starts) of a file's bytes. The body entries come grouped into tracks (see `_tracks`):
    track t is rows track_starts[t] .. track_starts[t + 1] - 1 of frame_of (the frame of each
    entry), info (E, 10) float64 and joints (E, 25, 12) float32 (rows past `entries` are
    unused). status GIVE_UP: use the exact path."""
    n, buf = len(data), data.ctypes.data
    none = np.empty(0, np.int64)
    give_up = (GIVE_UP, 0, 0, none, none, np.empty((0, NUM_INFO)),
               np.empty((0, NUM_JOINTS, NUM_JOINT_FIELDS), np.float32), none, none)
    if n >= 2 ** 31:  # offsets are int32
        return give_up
    # NTU lines take 3 to about 110 bytes, most near 90; a file with shorter lines on average
    # (say many empty frames) is indexed again with room for a line per byte. (Arrays sized
    # for the worst case cost page faults, a few microseconds each.)
    size = n // 16 + _BLOCK + _LINE_PAD + 2
    while True:
        ends, before = np.empty(size, np.int32), np.empty(size, np.int32)
        num_tokens, num_lines = _index_lines(data, ends, before)
        if num_lines >= 0:
            break
        size = n + _BLOCK + _LINE_PAD + 2
    # Line k holds tokens before[k] .. before[k + 1] - 1 (none past the last line).
    if before[1] != 1:
        return give_up
    num_frames, end = _integer(buf, 0, n)
    if end < 0 or num_frames > n // 2:  # a frame takes at least 2 bytes
        return give_up
    capacity = num_tokens // _ENTRY_TOKENS + 1
    frame_of, body_ids = np.empty(capacity, np.int64), np.empty(capacity, np.int64)
    start_of = np.empty(capacity, np.int64)  # the offset of each entry's info line
    bodies_per_frame = np.zeros(num_frames, np.int64)
    # The structure first: counts, ids and the number of fields on every line.
    line, entries = 1, 0
    for frame in range(num_frames):
        if before[line + 1] - before[line] != 1:
            return give_up
        num_bodies, end = _integer(buf, _line_start(ends, line), n)
        line += 1
        if end < 0 or num_bodies > capacity - entries:
            return give_up
        bodies_per_frame[frame] = num_bodies
        for _ in range(num_bodies):
            # An info line, a count line, 25 joint lines: then the entry is the _ENTRY_TOKENS
            # tokens from the start of its info line.
            wrong = (before[line + 1] - before[line] != NUM_INFO) | (
                before[line + 2] - before[line + 1] != 1)
            for k in range(line + 2, line + 2 + NUM_JOINTS):
                wrong |= before[k + 1] - before[k] != NUM_JOINT_FIELDS
            if wrong:
                return give_up
            start = _line_start(ends, line)
            body_id, end = _integer(buf, start, n)
            count, end_count = _integer(buf, _line_start(ends, line + 1), n)
            if end < 0 or end_count < 0 or count != NUM_JOINTS:
                return give_up
            frame_of[entries], body_ids[entries], start_of[entries] = frame, body_id, start
            entries += 1
            line += 2 + NUM_JOINTS
    if before[line] != num_tokens:  # only blanks and blank lines may follow the last frame
        return give_up
    # Then the numbers, each entry straight into its row in track order (no copy after): its
    # token starts are found again (into a buffer that stays in the L1 cache, and so does its
    # text for the conversion), then converted.
    track_ids, track_starts, order = _tracks(frame_of[:entries], body_ids[:entries])
    info = np.empty((capacity, NUM_INFO))
    joints = np.empty((capacity, NUM_JOINTS, NUM_JOINT_FIELDS), np.float32)
    frames = np.empty(capacity, np.int64)
    positions = np.empty(_ENTRY_TOKENS + _BLOCK, np.int32)
    scratch = np.empty(2048, np.uint64)  # for `_convert_entry`
    for row in range(entries):
        e = order[row]
        frames[row], info[row, 0] = frame_of[e], body_ids[e]  # int64 -> double as float()
        # Addresses are taken here, inside the loop, which keeps the arrays alive through it.
        at, work = positions.ctypes.data, scratch.ctypes.data
        # (The line index says that the file holds these 311 tokens; n is far above
        # _READ_AHEAD.)
        if _index_tokens(buf, n, start_of[e], _ENTRY_TOKENS, at, _COMPRESS) < _ENTRY_TOKENS:
            return give_up
        if not _convert_entry(buf, n, at, info.ctypes.data + 8 * row * NUM_INFO,
                              joints.ctypes.data + 4 * row * _JOINT_VALUES, work):
            return give_up
    return (OK, num_frames, entries, bodies_per_frame, frames, info, joints, track_ids,
            track_starts)


@njit(cache=True)
def _tracks(frame_of, body_ids):
    """Body entries grouped into tracks, in order of first appearance: a track is one body id,
    and the same id twice in one frame makes a second track (kept, not merged). Returns the
    track ids, where each track starts in `order`, and `order`: the entries sorted by track,
    in file order within one (a stable counting sort)."""
    entries = len(body_ids)
    track_of = np.empty(entries, np.int64)
    track_ids, track_dups = np.empty(entries, np.int64), np.empty(entries, np.int64)
    tracks, frame_start = 0, 0
    for e in range(entries):
        if e > 0 and frame_of[e] != frame_of[e - 1]:
            frame_start = e
        dup = 0  # how often this id came before in this frame
        for k in range(frame_start, e):
            dup += body_ids[k] == body_ids[e]
        t = 0
        while t < tracks and not (track_ids[t] == body_ids[e] and track_dups[t] == dup):
            t += 1
        if t == tracks:
            track_ids[t], track_dups[t] = body_ids[e], dup
            tracks += 1
        track_of[e] = t
    starts = np.zeros(tracks + 1, np.int64)  # plain loops: they compile faster than cumsum
    for e in range(entries):
        starts[track_of[e] + 1] += 1
    for t in range(tracks):
        starts[t + 1] += starts[t]
    filled = np.zeros(tracks, np.int64)
    order = np.empty(entries, np.int64)
    for e in range(entries):
        t = track_of[e]
        order[starts[t] + filled[t]] = e
        filled[t] += 1
    return track_ids[:tracks], starts, order
