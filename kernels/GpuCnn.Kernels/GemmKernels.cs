using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Shape and layout of C = epilogue(A·B): A is M×K, B is K×N, C is M×N (row-major, row stride
/// CRowStride). A and B are read through strides, so the same kernel computes A·B, Aᵀ·B and A·Bᵀ.
/// </summary>
public struct GemmArgs
{
    public int M, N, K;
    /// <summary>A(i,p) = a[i*ARowStride + p*AColStride].</summary>
    public int ARowStride, AColStride;
    /// <summary>B(p,j) = b[p*BRowStride + j*BColStride].</summary>
    public int BRowStride, BColStride;
    public int CRowStride;
    /// <summary>1: add bias[j] to every row of C.</summary>
    public int AddBias;
    /// <summary>1: clamp C at zero (a fused ReLU).</summary>
    public int Relu;
    /// <summary>
    /// Split-K, for a long K and a small M·N (weight gradients): partial product s sums K terms
    /// [s·KChunk, (s+1)·KChunk) into its own slab at C + s·PartialStride, and GemmSplitKReduce adds
    /// the slabs in order. 0: one pass over all of K.
    /// </summary>
    public int KChunk, PartialStride;
    /// <summary>
    /// The partial product a register-tiled or generic launch computes (one launch per part, so
    /// its K range is the same for every work-item); the shared-memory kernel takes it from grid Z.
    /// </summary>
    public int Part;

    public static GemmArgs RowMajor(int m, int n, int k, bool transposeA = false, bool transposeB = false) => new()
    {
        M = m, N = n, K = k,
        ARowStride = transposeA ? 1 : k, AColStride = transposeA ? m : 1,
        BRowStride = transposeB ? 1 : n, BColStride = transposeB ? k : 1,
        CRowStride = n,
    };

    public GemmArgs WithEpilogue(bool bias, bool relu)
    {
        var copy = this;
        copy.AddBias = bias ? 1 : 0;
        copy.Relu = relu ? 1 : 0;
        return copy;
    }

    /// <summary>Whether <see cref="GemmKernels.GemmRegisterTiled"/> can run this shape.</summary>
    public readonly bool FitsRegisterTiles => N % GemmKernels.TileCols == 0 && BColStride == 1
        && BRowStride % 8 == 0 && CRowStride % 8 == 0;

    public readonly int RegisterTileCount => (M + GemmKernels.TileRows - 1) / GemmKernels.TileRows * (N / GemmKernels.TileCols);

    public readonly long Flops => 2L * M * N * K;

    /// <summary>Partial products of a split-K GEMM (1 without split).</summary>
    public readonly int Splits => KChunk <= 0 || KChunk >= K ? 1 : (K + KChunk - 1) / KChunk;

    /// <summary>The K terms [start, end) that partial product <paramref name="split"/> sums.</summary>
    public readonly int KStart(int split) => Splits == 1 ? 0 : split * KChunk;

    public readonly int KEnd(int split) => Splits == 1 ? K : (split + 1) * KChunk < K ? (split + 1) * KChunk : K;
}

/// <summary>
/// The matrix products behind dense layers and convolutions (after im2col), in three launch
/// plans: register tiles for the CPU accelerator, shared-memory tiles for GPUs, and a plain
/// kernel that takes any shape. All three compute the same thing and are tested against one
/// C# reference.
/// </summary>
public static class GemmKernels
{
    public const int TileRows = 4;
    public const int TileCols = 16;

    /// <summary>
    /// Each thread owns whole 4×16 tiles of C (tile t, t+threadCount, ...) and keeps them in
    /// registers over the K range of partial product g.Part; rows of B are read eight floats at
    /// a time. Needs <see cref="GemmArgs.FitsRegisterTiles"/>. The CPU accelerator's plan: few
    /// threads, many tiles each. Each sum runs in K order, so results do not depend on the
    /// thread count.
    /// </summary>
    public static void GemmRegisterTiled(Index1D thread, ArrayView<float> a, ArrayView<float> b,
        ArrayView<float> c, ArrayView<float> bias, GemmArgs g, int threadCount)
    {
        int tiles = g.RegisterTileCount;
        for (int tile = thread; tile < tiles; tile += threadCount) RegisterTile(tile, a, b, c, bias, g);
    }

    /// <summary>
    /// The same tiles, one per work-item, with no loop around the tile: the OpenCL-CPU plan.
    /// PoCL runs neighbouring work-items in SIMD lanes when their control flow is the same; a
    /// per-work-item loop count (as in GemmRegisterTiled) makes it fall back to scalar code.
    /// </summary>
    public static void GemmRegisterTilePerItem(Index1D tile, ArrayView<float> a, ArrayView<float> b,
        ArrayView<float> c, ArrayView<float> bias, GemmArgs g) => RegisterTile(tile, a, b, c, bias, g);

    static void RegisterTile(int tile, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, GemmArgs g)
    {
        var b8 = b.Cast<Float8>();
        var c8 = c.Cast<Float8>();
        int tileColumns = g.N / TileCols;
        int bStride8 = g.BRowStride / 8, cStride8 = g.CRowStride / 8;
        int kStart = g.KStart(g.Part), kEnd = g.KEnd(g.Part);
        int row0 = tile / tileColumns * TileRows;
        int col8 = tile % tileColumns * 2;
        // Rows past M re-read the last row (harmless) and are never stored.
        int last = g.M - 1;
        int aStart = kStart * g.AColStride;
        int a0 = row0 * g.ARowStride + aStart;
        int a1 = XMath.Min(row0 + 1, last) * g.ARowStride + aStart;
        int a2 = XMath.Min(row0 + 2, last) * g.ARowStride + aStart;
        int a3 = XMath.Min(row0 + 3, last) * g.ARowStride + aStart;
        Float8 c0L = default, c0R = default, c1L = default, c1R = default;
        Float8 c2L = default, c2R = default, c3L = default, c3R = default;
        int bOffset = col8 + kStart * bStride8;
        for (int p = kStart; p < kEnd; p++)
        {
            Float8 bL = b8[bOffset];
            Float8 bR = b8[bOffset + 1];
            bOffset += bStride8;
            float x0 = a[a0], x1 = a[a1], x2 = a[a2], x3 = a[a3];
            a0 += g.AColStride; a1 += g.AColStride; a2 += g.AColStride; a3 += g.AColStride;
            c0L.MultiplyAdd(x0, bL); c0R.MultiplyAdd(x0, bR);
            c1L.MultiplyAdd(x1, bL); c1R.MultiplyAdd(x1, bR);
            c2L.MultiplyAdd(x2, bL); c2R.MultiplyAdd(x2, bR);
            c3L.MultiplyAdd(x3, bL); c3R.MultiplyAdd(x3, bR);
        }
        int cOffset = g.Part * (g.PartialStride / 8) + row0 * cStride8 + col8;
        StoreTileRow(c8, bias, g, cOffset, col8, c0L, c0R);
        if (row0 + 1 < g.M) StoreTileRow(c8, bias, g, cOffset + cStride8, col8, c1L, c1R);
        if (row0 + 2 < g.M) StoreTileRow(c8, bias, g, cOffset + 2 * cStride8, col8, c2L, c2R);
        if (row0 + 3 < g.M) StoreTileRow(c8, bias, g, cOffset + 3 * cStride8, col8, c3L, c3R);
    }

    /// <summary>Applies the epilogue to one row of a 4×16 tile and stores it. Shared with the direct convolutions.</summary>
    internal static void StoreTileRow(ArrayView<Float8> c8, ArrayView<float> bias, GemmArgs g, int offset, int col8,
        Float8 left, Float8 right)
    {
        ApplyEpilogue(bias, g, col8, ref left, ref right);
        var row = c8.SubView(offset, 2);
        row[0] = left;
        row[1] = right;
    }

    /// <summary>The epilogue of one row of a 4×16 tile, 16 columns from col8·8 on: + bias, then the ReLU, as g asks.</summary>
    internal static void ApplyEpilogue(ArrayView<float> bias, GemmArgs g, int col8, ref Float8 left, ref Float8 right)
    {
        if (g.AddBias != 0)
        {
            var bias8 = bias.Cast<Float8>();
            left.Add(bias8[col8]);
            right.Add(bias8[col8 + 1]);
        }
        if (g.Relu != 0)
        {
            left.ClampAtZero();
            right.ClampAtZero();
        }
    }

    /// <summary>Adds one row of a 4×16 tile to what c8 holds there (no epilogue).</summary>
    internal static void AddTileRow(ArrayView<Float8> c8, int offset, Float8 left, Float8 right)
    {
        var row = c8.SubView(offset, 2);
        left.Add(row[0]);
        right.Add(row[1]);
        row[0] = left;
        row[1] = right;
    }


    /// <summary>
    /// Any shape and any strides: each thread computes a contiguous run of C's elements (split)
    /// of partial product g.Part. Used for the odd shapes (a 10-class output layer) and as the
    /// plan of last resort.
    /// </summary>
    public static void GemmGeneric(Index1D thread, ArrayView<float> a, ArrayView<float> b,
        ArrayView<float> c, ArrayView<float> bias, GemmArgs g, WorkSplit split)
    {
        int end = split.End(thread);
        for (int index = split.Start(thread); index < end; index++) GenericElement(index, a, b, c, bias, g);
    }

    /// <summary>The same, one element per work-item and no loop around it (GPU-shaped plans; see GemmRegisterTilePerItem).</summary>
    public static void GemmGenericPerItem(Index1D index, ArrayView<float> a, ArrayView<float> b,
        ArrayView<float> c, ArrayView<float> bias, GemmArgs g) => GenericElement(index, a, b, c, bias, g);

    static void GenericElement(int index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, GemmArgs g)
    {
        int i = index / g.N, j = index % g.N;
        int kEnd = g.KEnd(g.Part);
        float sum = 0f;
        int ai = i * g.ARowStride, bj = j * g.BColStride;
        for (int p = g.KStart(g.Part); p < kEnd; p++)
            sum += a[ai + p * g.AColStride] * b[p * g.BRowStride + bj];
        c[g.Part * g.PartialStride + i * g.CRowStride + j] = Epilogue(sum, bias, g, j);
    }

    /// <summary>
    /// The second stage of a split-K GEMM: C(i,j) = epilogue(Σ_s partial_s(i,j)), slabs added in
    /// order so results are the same on every run. Partials are M×N row-major, PartialStride
    /// apart. Items are the M·N elements of C; a work-item steps through its run's rows and
    /// columns, dividing once (a division a float costs more than the sum on a CPU).
    /// </summary>
    public static void GemmSplitKReduce(Index1D thread, ArrayView<float> partials, ArrayView<float> c,
        ArrayView<float> bias, GemmArgs g, WorkSplit split)
    {
        int start = split.Start(thread), end = split.End(thread);
        int splits = g.Splits;
        int row = start / g.N, j = start % g.N;
        for (int index = start; index < end; index++)
        {
            float sum = 0f;
            for (int s = 0; s < splits; s++) sum += partials[s * g.PartialStride + index];
            c[row * g.CRowStride + j] = Epilogue(sum, bias, g, j);
            if (++j == g.N)
            {
                j = 0;
                row++;
            }
        }
    }

    /// <summary>Bias and ReLU of C(·, column), as GemmArgs asks. Shared with the Winograd output transform.</summary>
    internal static float Epilogue(float value, ArrayView<float> bias, GemmArgs g, int column)
    {
        if (g.AddBias != 0) value += bias[column];
        if (g.Relu != 0 && value < 0f) value = 0f;
        return value;
    }

    /// <summary>
    /// The classic GPU design: a group of tile×tile threads stages tile×tile blocks of A and B in
    /// shared memory and each thread computes one element of C. Launch with grid
    /// (ceil(M/tile), ceil(N/tile), splits) and group (tile, tile), tile at most
    /// <see cref="MaxSharedTile"/>. M goes on grid X, whose limit (2³¹-1) no batch reaches; CUDA caps Y and Z
    /// at 65,535. On the CPU accelerator every group thread is an OS thread, so it is only
    /// tested there.
    /// </summary>
    public static void GemmSharedTiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, GemmArgs g, int tile)
    {
        var shared = SharedMemory.Allocate<float>(SharedTiledFloats);
        var tileA = shared.SubView(0, tile * tile);
        var tileB = shared.SubView(tile * tile, tile * tile);
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxX * tile + ty;
        int col = Grid.IdxY * tile + tx;
        int part = Grid.IdxZ;
        int kEnd = g.KEnd(part);
        float sum = 0f;
        for (int p0 = g.KStart(part); p0 < kEnd; p0 += tile)
        {
            int pa = p0 + tx, pb = p0 + ty;
            tileA[ty * tile + tx] = row < g.M && pa < kEnd ? a[row * g.ARowStride + pa * g.AColStride] : 0f;
            tileB[ty * tile + tx] = pb < kEnd && col < g.N ? b[pb * g.BRowStride + col * g.BColStride] : 0f;
            Group.Barrier();
            for (int p = 0; p < tile; p++)
                sum += tileA[ty * tile + p] * tileB[p * tile + tx];
            Group.Barrier();
        }
        if (row < g.M && col < g.N)
            c[part * g.PartialStride + row * g.CRowStride + col] = Epilogue(sum, bias, g, col);
    }

    /// <summary>Outputs per thread along each side of a <see cref="GemmRegisterBlocked"/> block (4×4).</summary>
    public const int BlockPerThread = 4;

    /// <summary>
    /// The GPU plan's GEMM, register-blocked as fast GPU SGEMMs are: a group of T×T threads
    /// computes a 4T×4T block of C, thread (tx, ty) the 16 outputs at rows ty + T·i and columns
    /// tx + T·j (i, j &lt; 4), so the threads of a warp read neighbouring words of shared memory and
    /// store neighbouring words of C. Per K step of T, the group stages a 4T×T slice of A and a
    /// T×4T slice of B in shared memory (4 loads per thread each), then every thread does 16 FMAs
    /// per 8 shared-memory reads, against 1 per 2 in <see cref="GemmSharedTiled"/>. The loads
    /// follow the matrix's contiguous side, so neighbouring threads read neighbouring addresses
    /// for A, Aᵀ, B and Bᵀ alike. Launch with grid (⌈M/4T⌉, ⌈N/4T⌉, splits) and group (T, T),
    /// T at most <see cref="MaxSharedTile"/>.
    /// </summary>
    public static void GemmRegisterBlocked(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, GemmArgs g, int t)
    {
        var shared = SharedMemory.Allocate<float>(RegisterBlockedFloats);
        int block = BlockPerThread * t;
        // A's slice is stored K-major with one float of padding per row, so the column-wise stores
        // of a row-major A do not all hit one bank; B's slice is K-major, unpadded.
        int aPitch = block + 1;
        var tileA = shared.SubView(0, t * aPitch);
        var tileB = shared.SubView(t * aPitch, t * block);
        int tx = Group.IdxX, ty = Group.IdxY, id = ty * t + tx;
        int row0 = Grid.IdxX * block, col0 = Grid.IdxY * block;
        int part = Grid.IdxZ;
        int kEnd = g.KEnd(part);
        bool aRowsContiguous = g.ARowStride == 1, bRowsContiguous = g.BColStride == 1;
        var acc = new Block4x4();
        for (int p0 = g.KStart(part); p0 < kEnd; p0 += t)
        {
            for (int load = 0; load < BlockPerThread; load++)
            {
                int e = id + load * t * t;
                // Element e of the 4T×T slice of A, walking A's contiguous side first.
                int r = aRowsContiguous ? e % block : e / t, p = aRowsContiguous ? e / block : e % t;
                int row = row0 + r, k = p0 + p;
                tileA[p * aPitch + r] = row < g.M && k < kEnd ? a[row * g.ARowStride + k * g.AColStride] : 0f;
                // Element e of the T×4T slice of B.
                int q = bRowsContiguous ? e / block : e % t, j = bRowsContiguous ? e % block : e / t;
                int col = col0 + j, kb = p0 + q;
                tileB[q * block + j] = kb < kEnd && col < g.N ? b[kb * g.BRowStride + col * g.BColStride] : 0f;
            }
            Group.Barrier();
            for (int p = 0; p < t; p++)
            {
                int ar = p * aPitch + ty, bc = p * block + tx;
                acc.MultiplyAdd(tileA[ar], tileA[ar + t], tileA[ar + 2 * t], tileA[ar + 3 * t],
                    tileB[bc], tileB[bc + t], tileB[bc + 2 * t], tileB[bc + 3 * t]);
            }
            Group.Barrier();
        }
        int offset = part * g.PartialStride;
        for (int i = 0; i < BlockPerThread; i++)
        {
            int row = row0 + ty + i * t;
            if (row >= g.M) break;
            for (int j = 0; j < BlockPerThread; j++)
            {
                int col = col0 + tx + j * t;
                if (col < g.N) c[offset + row * g.CRowStride + col] = Epilogue(acc.Get(i, j), bias, g, col);
            }
        }
    }

    /// <summary>
    /// The widest group side of the shared-memory GEMMs. Their shared memory has a fixed size, what
    /// this side needs (smaller groups use part of it): ILGPU keeps a dynamic allocation's address
    /// in a program-scope variable, which every work-group sets on entry, and on a CPU device such
    /// as PoCL, whose threads run groups side by side, one group's address overwrote another's.
    /// </summary>
    public const int MaxSharedTile = 16;

    /// <summary>Shared memory of <see cref="GemmSharedTiled"/>: two tile × tile blocks.</summary>
    public const int SharedTiledFloats = 2 * MaxSharedTile * MaxSharedTile;

    /// <summary>Shared memory of <see cref="GemmRegisterBlocked"/>: a padded 4T×T slice of A and a T×4T slice of B, T = MaxSharedTile (8.3 KB).</summary>
    public const int RegisterBlockedFloats = MaxSharedTile * (BlockPerThread * MaxSharedTile + 1) + MaxSharedTile * BlockPerThread * MaxSharedTile;

    /// <summary>dst (cols×rows) = srcᵀ for a row-major rows×cols src; items are rows of src.</summary>
    public static void Transpose(Index1D thread, ArrayView<float> src, ArrayView<float> dst, int rows, int cols,
        WorkSplit split)
    {
        int end = split.End(thread);
        for (int r = split.Start(thread); r < end; r++)
            for (int col = 0; col < cols; col++)
                dst[col * rows + r] = src[r * cols + col];
    }

    /// <summary>
    /// sums[s·cols + j] = Σ over rows i of chunk s of m[i*cols + j], for a row-major rows×cols m:
    /// bias gradients, and the first stage of a long column sum (rowChunk rows per chunk; the
    /// launcher sums the chunks' results with this kernel again). Items are (chunk, column group)
    /// pairs; a group is eight columns when cols is a multiple of 8, else one. Each sum runs in
    /// row order, so results do not depend on the split; eight-column groups four side by side
    /// where a work-item has them (<see cref="ChunkQuad"/>).
    /// </summary>
    public static void ColumnSum(Index1D thread, ArrayView<float> m, ArrayView<float> sums, int rows, int cols,
        int rowChunk, WorkSplit split)
    {
        int item = split.Start(thread), end = split.End(thread);
        bool vector = cols % 8 == 0;
        int groups = vector ? cols / 8 : cols;
        var m8 = m.Cast<Float8>();
        var sums8 = sums.Cast<Float8>();
        if (vector)
        {
            for (; item + ChunkQuad.Items <= end; item += ChunkQuad.Items)
            {
                new ChunkQuad(item, groups, rows, rowChunk).Sums(m8, groups, out var sum0, out var sum1, out var sum2, out var sum3);
                sums8[item] = sum0;
                sums8[item + 1] = sum1;
                sums8[item + 2] = sum2;
                sums8[item + 3] = sum3;
            }
        }
        for (; item < end; item++)
        {
            ChunkQuad.Span(item, groups, rows, rowChunk, out int at, out int count);
            if (vector)
            {
                Float8 sum8 = default;
                ChunkQuad.Sum(m8, at, 0, count, groups, ref sum8);
                sums8[item] = sum8;
            }
            else
            {
                float sum = 0f;
                for (int i = 0; i < count; i++) sum += m[at + i * cols];
                sums[item] = sum;
            }
        }
    }
}
