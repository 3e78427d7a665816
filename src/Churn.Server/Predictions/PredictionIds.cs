using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Churn.Server.Predictions;

/// <summary>
/// Prediction ids: version 7 UUIDs (RFC 9562, section 5.7): the time in Unix-epoch milliseconds in the first 48 bits,
/// then the version (7), 12 random bits, the variant (binary 10) and 62 random bits, so ids sort by time as
/// <see cref="Guid.CreateVersion7(DateTimeOffset)"/>'s do. The random bits come from a per-thread block of
/// cryptographically random bytes refilled <see cref="IdsPerBlock"/> ids at a time: <see cref="Guid.CreateVersion7(DateTimeOffset)"/>
/// asks the system's random source once per id, which on Linux is one <c>read</c> system call per prediction (100 for
/// a 100-row batch; bench/NOTES.md, 2026-12-02).
/// </summary>
public static class PredictionIds
{
    /// <summary>Ids drawn from one block of random bytes before it is refilled.</summary>
    public const int IdsPerBlock = 256;

    private const int BytesPerId = 16;

    [ThreadStatic]
    private static byte[]? block;

    [ThreadStatic]
    private static int next;

    /// <summary>A new id for a prediction made at <paramref name="time"/> (milliseconds are kept; finer parts are not).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="time"/> is before 1970-01-01 UTC.</exception>
    public static Guid Next(DateTimeOffset time)
    {
        var milliseconds = time.ToUnixTimeMilliseconds();
        ArgumentOutOfRangeException.ThrowIfNegative(milliseconds, nameof(time));
        if (block is null || next == block.Length)
        {
            block ??= new byte[IdsPerBlock * BytesPerId];
            RandomNumberGenerator.Fill(block);
            next = 0;
        }
        Span<byte> id = stackalloc byte[BytesPerId];
        block.AsSpan(next, BytesPerId).CopyTo(id);
        next += BytesPerId;
        // Octets 0-5: the 48-bit timestamp, most significant first; octet 6 starts with the version, octet 8 with the variant.
        BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)(milliseconds >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(id[2..], (uint)milliseconds);
        id[6] = (byte)(0x70 | (id[6] & 0x0F));
        id[8] = (byte)(0x80 | (id[8] & 0x3F));
        return new Guid(id, bigEndian: true);
    }
}
