using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>
/// The fingerprint that tells whether packed weights are stale: past one chunk it is hashed chunk by chunk on several
/// threads, and must still depend on the bytes alone and still change with any single word.
/// </summary>
[Collection(nameof(GemmThreadingTests))]
public sealed class ContentHashTests
{
    private static float[] Values(int count)
    {
        var rng = new Random(count);
        var v = new float[count];
        for (int i = 0; i < v.Length; i++)
            v[i] = (float)rng.NextDouble();
        return v;
    }

    [Fact]
    public void ChunkedHashesDependOnTheBytesOnlyAndSeeEverySingleChange()
    {
        // 2.6 chunks of floats: whole chunks and a partial last one.
        int perChunk = ContentHash.ChunkBytes / sizeof(float);
        var v = Values(perChunk * 5 / 2 + 3);
        ulong h = ContentHash.Of<float>(v);
        int saved = Gemm.MaxThreads;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Gemm.MaxThreads = threads;
                Assert.Equal(h, ContentHash.Of<float>(v));
            }
        }
        finally
        {
            Gemm.MaxThreads = saved;
        }
        var seen = new HashSet<ulong> { h };
        foreach (int i in new[] { 0, 1, perChunk - 1, perChunk, 2 * perChunk + 7, v.Length - 1 })
        {
            float old = v[i];
            v[i] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(old) ^ 1);
            ulong changed = ContentHash.Of<float>(v);
            Assert.True(seen.Add(changed), $"flipping the lowest bit of value {i} left the hash at a value seen before");
            v[i] = old;
        }
        Assert.Equal(h, ContentHash.Of<float>(v));
        // Shorter than a chunk: the single pass, also seeing its last value.
        var small = Values(1000);
        ulong s = ContentHash.Of<float>(small);
        small[^1] += 1;
        Assert.NotEqual(s, ContentHash.Of<float>(small));
    }
}
