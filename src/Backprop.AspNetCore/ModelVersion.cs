using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.AspNetCore;

/// <summary>
/// One loaded model file, never changed after it is loaded: the model, its number among the versions this process
/// has served (1, 2, ...), and the file's SHA-256. A request takes the current version once and computes everything
/// with it, so it sees one model, whatever is swapped in meanwhile.
/// </summary>
public sealed class ModelVersion
{
    /// <summary>A column that is known but not an input (the target, a dropped column): its value is ignored.</summary>
    internal const int Ignored = -1;

    private readonly Dictionary<string, int> _columns;

    private ModelVersion(Model<float> model, int number, string sha256, long bytes, DateTimeOffset loadedAt, string fileName)
    {
        Model = model;
        Number = number;
        Sha256 = sha256;
        FileBytes = bytes;
        LoadedAt = loadedAt;
        FileName = fileName;
        var schema = model.Schema;
        _columns = new Dictionary<string, int>(StringComparer.Ordinal);
        if (schema.FeatureNames is { } names)
            for (int i = 0; i < names.Count; i++)
                _columns.TryAdd(names[i], i);
        if (schema.Target is { } target)
            _columns.TryAdd(target, Ignored);
        foreach (var dropped in schema.DroppedColumns)
            _columns.TryAdd(dropped, Ignored);
        Columns = _columns.GetAlternateLookup<ReadOnlySpan<char>>();
        Features = schema.Features;
        Outputs = model.Network.Outputs;
        IsClassifier = model.Task == TaskKind.Classification;
        ClassNames = model.ClassNames.Select(n => JsonEncodedText.Encode(n)).ToArray();
    }

    /// <summary>The model (read-only here: it is never trained while served).</summary>
    public Model<float> Model { get; }

    /// <summary>1 for the model loaded at start, then one more for each new file swapped in.</summary>
    public int Number { get; }

    /// <summary>The SHA-256 of the model file's bytes, lowercase hex.</summary>
    public string Sha256 { get; }

    /// <summary>The model file's size in bytes.</summary>
    public long FileBytes { get; }

    /// <summary>When this version was loaded.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>The model file's name (without its folder).</summary>
    public string FileName { get; }

    /// <summary>Inputs per record.</summary>
    internal int Features { get; }

    /// <summary>The network's outputs per record.</summary>
    internal int Outputs { get; }

    internal bool IsClassifier { get; }

    /// <summary>The class names, encoded once for the responses.</summary>
    internal JsonEncodedText[] ClassNames { get; }

    /// <summary>Column name to input index (<see cref="Ignored"/> for the target and dropped columns).</summary>
    internal Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Columns { get; }

    /// <summary>True when records can be given by column name (the model knows its columns' names).</summary>
    internal bool HasNames => Model.Schema.FeatureNames is not null;

    /// <summary>
    /// Reads and parses <paramref name="path"/> as version <paramref name="number"/>. The bytes are read once (at most
    /// <see cref="ModelFile.MaxFileBytes"/>), hashed and parsed, so the hash is that of the model served.
    /// </summary>
    /// <exception cref="BackpropException">The file cannot be read or is not a valid model file.</exception>
    internal static ModelVersion Load(string path, int number, TimeProvider time)
    {
        byte[] bytes = BoundedFile.ReadAllBytes(path, ModelFile.MaxFileBytes, "model");
        return FromBytes(bytes, path, number, time);
    }

    /// <summary>Parses model-file bytes read from <paramref name="path"/>.</summary>
    internal static ModelVersion FromBytes(byte[] bytes, string path, int number, TimeProvider time)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new ModelFormatException($"{path}: the file is not valid UTF-8 ({e.Message}).", e);
        }
        if (text.Length > 0 && text[0] == '\uFEFF')
            text = text[1..];
        if (text.Length == 0)
            throw new ModelFormatException($"{path}: the file is empty.");
        var model = ModelFile.Deserialize<float>(text, path);
        if (model.Preprocessing is null && model.PreprocessingKind != PreprocessingKind.None)
            throw new ModelFormatException($"{path}: the model's preprocessing is not fitted (the model was never trained); it cannot predict.");
        return new ModelVersion(model, number, Hash(bytes), bytes.Length, time.GetUtcNow(), Path.GetFileName(path));
    }

    /// <summary>Lowercase hex SHA-256.</summary>
    internal static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
