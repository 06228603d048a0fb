using System.Security.Cryptography;
using System.Text;
using Backtesting.Engine;

namespace Backtesting.Tests.Engine;

/// <summary>The managed SHA-256 of the content hash and the data versions gives the platform's digest for every
/// length around the block and padding boundaries, however the input is cut into appends, and FIPS 180-4's vectors.</summary>
public class TextSha256Tests
{
    private static byte[] Bytes(int length) => Enumerable.Range(0, length).Select(i => (byte)((i * 131) + (length * 7))).ToArray();

    [Fact]
    public void Every_length_up_to_300_bytes_hashes_as_the_platform_does()
    {
        for (var length = 0; length <= 300; length++)
        {
            var data = Bytes(length);
            Assert.Equal(SHA256.HashData(data), TextSha256.Hash(data));
        }
    }

    [Fact]
    public void Appends_cut_anywhere_give_the_digest_of_the_whole()
    {
        var data = Bytes(1000);
        var random = new Random(17);
        for (var round = 0; round < 200; round++)
        {
            var sha = new TextSha256();
            var at = 0;
            while (at < data.Length)
            {
                var take = Math.Min(data.Length - at, random.Next(0, 130));
                sha.Append(data.AsSpan(at, take));
                at += take;
            }

            Assert.Equal(SHA256.HashData(data), sha.Finish());
        }
    }

    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void The_standard_s_test_vectors_hash_to_their_published_digests(string text, string digest)
    {
        Assert.Equal(digest, Convert.ToHexStringLower(TextSha256.Hash(Encoding.ASCII.GetBytes(text))));
    }

    [Fact]
    public void A_million_a_s_hash_to_the_published_digest()
    {
        var sha = new TextSha256();
        var chunk = Enumerable.Repeat((byte)'a', 1000).ToArray();
        for (var i = 0; i < 1000; i++)
            sha.Append(chunk);
        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Convert.ToHexStringLower(sha.Finish()));
    }

    [Fact]
    public void A_finished_hash_refuses_more_input_rather_than_giving_a_wrong_digest()
    {
        var sha = new TextSha256();
        sha.Finish();
        Assert.Throws<ObjectDisposedException>(() => sha.Append([1]));
        Assert.Throws<ObjectDisposedException>(() => sha.Finish());
    }
}
