#!/usr/bin/env python3
"""Writes src/Backprop/Numerics/GemmMicroKernels.g.cs: the register-blocked micro-kernels, fully unrolled.

The JIT keeps each accumulator in its own register only when every accumulator is a separate local, so the
kernels are written out in full; this script is the single source of that repetition.
Usage: python3 tools/gen-microkernels.py > src/Backprop/Numerics/GemmMicroKernels.g.cs
"""

# (struct name, vector type, rows MR, vectors per row, row counts with their own code, KC cap, summary)
KERNELS = [
    ("MicroKernel256", "Vector256", 6, 2, [6, 4, 2],
     "6 x (2 x Vector256&lt;T&gt;.Count) micro-kernel: 12 accumulators, 2 B loads and 6 broadcasts per k step (16 registers: AVX2)"),
    ("MicroKernel512", "Vector512", 12, 2, [12, 8, 4],
     "12 x (2 x Vector512&lt;T&gt;.Count) micro-kernel: 24 accumulators, 2 B loads and 12 broadcasts per k step (32 registers: AVX-512)"),
]


def body(vec, mr, nv, rows):
    acc = [f"c{r}{v}" for r in range(rows) for v in range(nv)]
    out = []
    out.append(f"        nint w = {vec}<T>.Count;")
    out.append(f"        {vec}<T> " + ", ".join(acc) + ";")
    out.append("        if (load)")
    out.append("        {")
    for r in range(rows):
        out.append("            " + " ".join(f"c{r}{v} = {vec}.Load(c + {r} * ldc{'' if v == 0 else f' + {v} * w' if v > 1 else ' + w'});" for v in range(nv)))
    out.append("        }")
    out.append("        else")
    out.append("        {")
    for r in range(rows):
        out.append("            " + " ".join(f"c{r}{v} = {vec}<T>.Zero;" for v in range(nv)))
    out.append("        }")
    out.append("        for (int p = 0; p < kc; p++)")
    out.append("        {")
    for v in range(nv):
        off = "" if v == 0 else (" + w" if v == 1 else f" + {v} * w")
        out.append(f"            var b{v} = {vec}.Load(b{off});")
    out.append(f"            {vec}<T> x;")
    for r in range(rows):
        out.append(f"            x = {vec}.Create(a[{r}]); " + " ".join(f"c{r}{v} = Fma(x, b{v}, c{r}{v});" for v in range(nv)))
    out.append("            if (Sse.IsSupported && lines > 0)")
    out.append("            {")
    out.append("                Sse.Prefetch1(prefetch);")
    out.append("                prefetch += 64;")
    out.append("                lines--;")
    out.append("            }")
    out.append(f"            a += {mr};")
    out.append(f"            b += {nv} * w;")
    out.append("        }")
    for r in range(rows):
        out.append("        " + " ".join(f"c{r}{v}.Store(c + {r} * ldc{'' if v == 0 else (' + w' if v == 1 else f' + {v} * w')});" for v in range(nv)))
    return out


def kernel(name, vec, mr, nv, variants, summary):
    L = []
    L.append("/// <summary>")
    L.append(f"/// The {summary}. Every lane is one fused multiply-add chain in increasing k.")
    L.append("/// </summary>")
    L.append(f"internal readonly unsafe struct {name}<T> : IMicroKernel<T>")
    L.append("    where T : unmanaged, IFloatingPointIeee754<T>")
    L.append("{")
    L.append(f"    public static int MR => {mr};")
    L.append(f"    public static int NR => {nv} * {vec}<T>.Count;")
    L.append(f"    public static ReadOnlySpan<int> RowCounts => [{', '.join(str(v) for v in variants)}];")
    L.append("")
    L.append("    public static void Run(int rows, int kc, T* a, T* b, T* c, nint ldc, bool load) => Run(rows, kc, a, b, c, ldc, load, null, 0);")
    L.append("")
    L.append("    public static void Run(int rows, int kc, T* a, T* b, T* c, nint ldc, bool load, byte* prefetch, int lines)")
    L.append("    {")
    L.append("        switch (rows)")
    L.append("        {")
    for v in variants:
        L.append(f"            case {v}: Run{v}(kc, a, b, c, ldc, load, prefetch, lines); break;")
    L.append("            default: throw new ArgumentOutOfRangeException(nameof(rows));")
    L.append("        }")
    L.append("    }")
    for v in variants:
        L.append("")
        L.append("    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]")
        L.append(f"    private static void Run{v}(int kc, T* a, T* b, T* c, nint ldc, bool load, byte* prefetch, int lines)")
        L.append("    {")
        L.extend(body(vec, mr, nv, v))
        L.append("    }")
    L.append("")
    L.append("    [MethodImpl(MethodImplOptions.AggressiveInlining)]")
    L.append(f"    private static {vec}<T> Fma({vec}<T> x, {vec}<T> y, {vec}<T> addend)")
    L.append("    {")
    L.append("        if (typeof(T) == typeof(float))")
    L.append(f"            return {vec}.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();")
    L.append("        if (typeof(T) == typeof(double))")
    L.append(f"            return {vec}.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();")
    L.append("        throw new NotSupportedException();")
    L.append("    }")
    L.append("}")
    return L


def main():
    out = [
        "// <auto-generated> by tools/gen-microkernels.py; edit the script, not this file. </auto-generated>",
        "using System.Numerics;",
        "using System.Runtime.CompilerServices;",
        "using System.Runtime.Intrinsics;",
        "using System.Runtime.Intrinsics.X86;",
        "",
        "namespace Backprop.Numerics;",
    ]
    for k in KERNELS:
        out.append("")
        out.extend(kernel(*k))
    print("\n".join(out))


main()
