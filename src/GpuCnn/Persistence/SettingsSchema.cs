using System.Text.Json;
using GpuCnn.Data;
using GpuCnn.Training;

namespace GpuCnn.Persistence;

/// <summary>
/// The JSON schema of a run's settings, written and read field by field: hyperparameters, data,
/// and per-epoch metrics. Checkpoint headers (format 3), settings.json and campaign.json share it.
/// Every field is written; on reading every field must be there, with its type, except those
/// added since files were first written, which take the value older files meant: the recipe
/// toolbox's (erasing, weight decay, label smoothing, warm-up, test-time flip) their defaults,
/// "ema" none.
/// </summary>
public static class SettingsSchema
{
    public static void Write(Utf8JsonWriter w, Hyperparameters h)
    {
        w.WriteStartObject();
        w.WriteNumber("epochs", h.Epochs);
        w.WriteNumber("batch_size", h.BatchSize);
        w.WriteNumber("learning_rate", h.LearningRate);
        w.WriteString("optimizer", h.Optimizer);
        w.WriteNumber("seed", h.Seed);
        w.WriteNumber("validation_split", h.ValidationSplit);
        w.WriteStartObject("augmentation");
        w.WriteNumber("max_shift", h.Augmentation.MaxShift);
        w.WriteBoolean("flip", h.Augmentation.Flip);
        w.WriteNumber("erase_probability", h.Augmentation.EraseProbability);
        w.WriteEndObject();
        if (h.EarlyStoppingPatience is { } patience) w.WriteNumber("early_stopping_patience", patience);
        else w.WriteNull("early_stopping_patience");
        w.WriteString("lr_schedule", ScheduleName(h.Schedule));
        w.WriteNumber("step_every", h.StepEvery);
        w.WriteNumber("step_gamma", h.StepGamma);
        w.WriteNumber("bn_recalibrate", h.BatchNormRecalibration);
        w.WriteNumber("weight_decay", h.WeightDecay);
        w.WriteBoolean("decay_all", h.DecayAll);
        w.WriteNumber("label_smoothing", h.LabelSmoothing);
        w.WriteNumber("warmup_epochs", h.WarmupEpochs);
        w.WriteBoolean("test_time_flip", h.TestTimeFlip);
        if (h.EmaDecay == 0) w.WriteNull("ema");
        else
        {
            w.WriteStartObject("ema");
            w.WriteNumber("decay", h.EmaDecay);
            w.WriteBoolean("warmup", h.EmaWarmup);
            w.WriteEndObject();
        }
        w.WriteString("freeze", h.Freeze);
        w.WriteEndObject();
    }

    /// <summary>
    /// The hyperparameters of a settings object. Fields added after version 3 first shipped
    /// (random erasing, weight decay, label smoothing, warm-up, test-time flips, frozen layers) may
    /// be absent, as in the run folders of that time: they take the value that meant none.
    /// </summary>
    public static Hyperparameters ReadHyperparameters(JsonElement o)
    {
        var augmentation = o.Get("augmentation", JsonValueKind.Object);
        var absent = new Hyperparameters();
        var ema = o.Optional("ema");
        return new Hyperparameters
        {
            Epochs = o.Int("epochs"),
            BatchSize = o.Int("batch_size"),
            LearningRate = (float)o.Double("learning_rate"),
            Optimizer = o.String("optimizer"),
            Seed = o.Int("seed"),
            ValidationSplit = o.Double("validation_split"),
            Augmentation = new Augmentation(augmentation.Int("max_shift"), augmentation.Bool("flip"), augmentation.DoubleOr("erase_probability", absent.Augmentation.EraseProbability)),
            EarlyStoppingPatience = o.IntOrNull("early_stopping_patience"),
            Schedule = ParseSchedule(o.String("lr_schedule")),
            StepEvery = o.Int("step_every"),
            StepGamma = (float)o.Double("step_gamma"),
            BatchNormRecalibration = o.Int("bn_recalibrate"),
            WeightDecay = (float)o.DoubleOr("weight_decay", absent.WeightDecay),
            DecayAll = o.BoolOr("decay_all", absent.DecayAll),
            LabelSmoothing = (float)o.DoubleOr("label_smoothing", absent.LabelSmoothing),
            WarmupEpochs = o.DoubleOr("warmup_epochs", absent.WarmupEpochs),
            TestTimeFlip = o.BoolOr("test_time_flip", absent.TestTimeFlip),
            EmaDecay = ema is { } e ? EmaDecay(e) : 0f,
            EmaWarmup = ema is { } w && w.Bool("warmup"),
            Freeze = o.StringOrNull("freeze"),
        };
    }

    /// <summary>"ema": {"decay", "warmup"}'s decay, which must lie strictly between 0 and 1.</summary>
    static float EmaDecay(JsonElement ema)
    {
        double decay = ema.Double("decay");
        return (float)decay is > 0 and < 1 ? (float)decay : throw new JsonException($"'ema' has decay {decay}; it must be between 0 and 1 (both excluded)");
    }

    public static string ScheduleName(LearningRateSchedule schedule) => schedule switch
    {
        LearningRateSchedule.OneCycle => "onecycle",
        LearningRateSchedule.WarmupCosine => "warmup-cosine",
        _ => schedule.ToString().ToLowerInvariant(),
    };

    static LearningRateSchedule ParseSchedule(string name)
    {
        foreach (var schedule in Enum.GetValues<LearningRateSchedule>())
            if (ScheduleName(schedule) == name) return schedule;
        throw new JsonException($"'lr_schedule' is '{name}', not one of {string.Join(", ", Enum.GetValues<LearningRateSchedule>().Select(ScheduleName))}");
    }

    public static void Write(Utf8JsonWriter w, DataSpec d)
    {
        w.WriteStartObject();
        w.WriteString("data_dir", d.DataDir);
        w.WriteString("cache_dir", d.CacheDir);
        if (d.TrainLimit is { } limit) w.WriteNumber("train_limit", limit);
        else w.WriteNull("train_limit");
        w.WriteNumber("image_height", d.ImageHeight);
        w.WriteNumber("image_width", d.ImageWidth);
        w.WriteNumber("channels", d.Channels);
        w.WriteBoolean("skip_bad_images", d.SkipBadImages);
        w.WriteEndObject();
    }

    public static DataSpec ReadDataSpec(JsonElement o) => new()
    {
        DataDir = o.StringOrNull("data_dir"),
        CacheDir = o.StringOrNull("cache_dir"),
        TrainLimit = o.IntOrNull("train_limit"),
        ImageHeight = o.Int("image_height"),
        ImageWidth = o.Int("image_width"),
        Channels = o.Int("channels"),
        SkipBadImages = o.Bool("skip_bad_images"),
    };

    public static void Write(Utf8JsonWriter w, IEnumerable<EpochMetrics> history)
    {
        w.WriteStartArray();
        foreach (var m in history)
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", m.Epoch);
            w.WriteFinite("loss", m.Loss);
            w.WriteFinite("accuracy", m.Accuracy);
            w.WriteFinite("val_loss", m.ValLoss);
            w.WriteFinite("val_accuracy", m.ValAccuracy);
            w.WriteFinite("seconds", m.Seconds);
            w.WriteFinite("images_per_second", m.ImagesPerSecond);
            w.WriteFinite("learning_rate", m.LearningRate);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static List<EpochMetrics> ReadHistory(JsonElement array) =>
    [
        .. array.EnumerateArray().Select(m => new EpochMetrics(m.Int("epoch"), m.DoubleOrNaN("loss"), m.DoubleOrNaN("accuracy"),
            m.DoubleOrNaN("val_loss"), m.DoubleOrNaN("val_accuracy"), m.DoubleOrNaN("seconds"), m.DoubleOrNaN("images_per_second"),
            m.DoubleOrNaN("learning_rate"))),
    ];

    /// <summary>The run's settings as one indented JSON document (settings.json): hyperparameters, data, and the run.</summary>
    public static string Document(Hyperparameters hyperparameters, RunRecord run, string model) => Indented(w =>
    {
        w.WriteStartObject();
        w.WriteString("model", model);
        w.WritePropertyName("hyperparameters");
        Write(w, hyperparameters);
        w.WritePropertyName("data");
        if (run.Data is { } data) Write(w, data);
        else w.WriteNullValue();
        w.WriteString("command", run.Command);
        w.WriteNumber("ranks", run.Ranks);
        w.WriteString("init_from", run.InitFrom);
        w.WriteEndObject();
    });

    /// <summary>
    /// A settings document read back (a run's settings.json, or a recipe file of the same schema):
    /// the model's name, the hyperparameters, the data, if it names any, and the model file whose
    /// weights the run started from, if any. Only "model" and "hyperparameters" are required;
    /// DataFileException naming the file and the field otherwise.
    /// </summary>
    public static (string Model, Hyperparameters Hyperparameters, DataSpec? Data, string? InitFrom) ReadDocument(string path)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            var data = root.Optional("data") is { } d ? ReadDataSpec(d) : null;
            return (root.String("model"), ReadHyperparameters(root.Get("hyperparameters", JsonValueKind.Object)), data, root.StringOrNull("init_from"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new DataFileException(path, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"not a run's settings ({e.Message})");
        }
    }

    public static string Indented(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true })) write(w);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
