using System.Text.Json;
using System.Text.Json.Serialization;
using Backprop.Training;

namespace Backprop.IO.Json;

/// <summary>
/// The one System.Text.Json context (source-generated, no reflection) for every JSON this library reads and writes
/// besides the network's own layers: the model file's sections, checkpoints. Names are snake_case; reading is
/// strict (an unknown field or a null where a value belongs is an error).
/// </summary>
/// <remarks>
/// Also the explain JSON (<see cref="ExplainDocument"/>) and the playground's API (the Playground* records), so that
/// one quantity has one name on every surface. Every double is finite or refused (<see cref="FiniteDoubleConverter"/>);
/// repeated fields are refused. The library calls System.Text.Json only with this context's type information (its
/// project turns the trim and AOT analysers on, so a reflection-based call does not build).
/// </remarks>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    WriteIndented = true,
    AllowDuplicateProperties = false,
    Converters = [typeof(StreamingDoubleArrayConverter), typeof(CountedIntArrayConverter), typeof(FiniteDoubleConverter)])]
// The explain JSON (docs/explain-format.md).
[JsonSerializable(typeof(ExplainDocument))]
// The playground's API (docs/playground.md).
[JsonSerializable(typeof(PlaygroundSeedState))]
[JsonSerializable(typeof(PlaygroundSeedRequest))]
[JsonSerializable(typeof(PlaygroundSeedAnswer))]
[JsonSerializable(typeof(PlaygroundTrainOptions))]
[JsonSerializable(typeof(PlaygroundTrainRequest))]
[JsonSerializable(typeof(PlaygroundStepRequest))]
[JsonSerializable(typeof(PlaygroundTrainCreated))]
[JsonSerializable(typeof(PlaygroundTrainStatus))]
[JsonSerializable(typeof(PlaygroundDeleted))]
[JsonSerializable(typeof(PlaygroundError))]
[JsonSerializable(typeof(PipelineSection))]
[JsonSerializable(typeof(TrainingSection))]
[JsonSerializable(typeof(TrainingState))]
[JsonSerializable(typeof(ModelMetrics))]
[JsonSerializable(typeof(LegacyDataSection))]
[JsonSerializable(typeof(LegacyTrainingSection))]
[JsonSerializable(typeof(PreprocessingSection))]
[JsonSerializable(typeof(TableSection))]
[JsonSerializable(typeof(TableColumnSection))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(EpochLine))]
[JsonSerializable(typeof(TrainingSummary))]
[JsonSerializable(typeof(EvaluationReport))]
[JsonSerializable(typeof(ModelInfoReport))]
// cv, tune and importance (EvaluationOutputs.cs).
[JsonSerializable(typeof(CrossValidationFoldLine))]
[JsonSerializable(typeof(CrossValidationSummary))]
[JsonSerializable(typeof(TuneTrialLine))]
[JsonSerializable(typeof(TuneSummary))]
[JsonSerializable(typeof(ImportanceReport))]
public sealed partial class BackpropJson : JsonSerializerContext
{
    /// <summary>The options of <see cref="Default"/> without indentation (checkpoint state, one line).</summary>
    public static BackpropJson Compact => s_compact ??= new BackpropJson(new JsonSerializerOptions(Default.Options) { WriteIndented = false });

    private static BackpropJson? s_compact;
}

/// <summary>
/// Writes <c>double[]</c> element by element and flushes the writer every 65,536 values, so an array of any size
/// (optimizer state, weights) goes to a stream without being buffered whole; reads a JSON array of numbers.
/// </summary>
public sealed class StreamingDoubleArrayConverter : JsonConverter<double[]>
{
    /// <inheritdoc/>
    public override double[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected an array of numbers");
        // The serializer gives a converter its whole value at once: count the elements first on a copy of the
        // reader, then fill one array of that length (a growing list holds up to twice the values, then copies them).
        var probe = reader;
        int count = 0;
        while (probe.Read() && probe.TokenType != JsonTokenType.EndArray)
        {
            probe.Skip();
            count++;
        }
        var values = count == 0 ? [] : new double[count];
        int i = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double v) || !double.IsFinite(v))
                throw new JsonException($"expected a finite number at element {i}");
            values[i++] = v;
        }
        return values;
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, double[] value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        for (int i = 0; i < value.Length; i++)
        {
            if (!double.IsFinite(value[i]))
                throw new NonFiniteNumberException(
                    $"element {i} of an array of {value.Length} numbers is {value[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}, which JSON cannot hold.");
            writer.WriteNumberValue(value[i]);
            if ((i & 0xFFFF) == 0xFFFF)
                writer.Flush();
        }
        writer.WriteEndArray();
    }
}

/// <summary>
/// Reads an <c>int[]</c> (a checkpoint's row order) by counting its elements first and filling one array of that length
/// (a growing list holds up to twice the values, then copies them); writes it element by element, flushing every
/// 65,536 values.
/// </summary>
public sealed class CountedIntArrayConverter : JsonConverter<int[]>
{
    /// <inheritdoc/>
    public override int[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected an array of whole numbers");
        var probe = reader;
        int count = 0;
        while (probe.Read() && probe.TokenType != JsonTokenType.EndArray)
        {
            probe.Skip();
            count++;
        }
        var values = count == 0 ? [] : new int[count];
        int i = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int v))
                throw new JsonException($"expected a whole number at element {i}");
            values[i++] = v;
        }
        return values;
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, int[] value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        for (int i = 0; i < value.Length; i++)
        {
            writer.WriteNumberValue(value[i]);
            if ((i & 0xFFFF) == 0xFFFF)
                writer.Flush();
        }
        writer.WriteEndArray();
    }
}
