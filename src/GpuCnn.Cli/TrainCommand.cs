using System.CommandLine;
using GpuCnn.Distributed;
using GpuCnn.Persistence;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn train`: parse, then hand over to <see cref="TrainingRun"/>.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new TrainingOptions();
        var device = CommonOptions.Device();
        var model = CommonOptions.Model();
        var shared = new TrainingOptionSet(defaults);
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, shuffling and dropout.", DefaultValueFactory = _ => defaults.Seed };
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var runDir = new Option<string?>("--run-dir") { Description = "Folder for this run's metrics, plots, checkpoints and model (default runs/<time>-<model>)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last complete checkpoint." };
        var imageSize = CommonOptions.ImageSize();
        imageSize.Validators.Add(r =>
        {
            if (CommonOptions.ParseImageSize(r.GetValueOrDefault<string>()!) is null)
                r.AddError($"--image-size must be HxW with sides from 1 to 1024, got '{r.GetValueOrDefault<string>()}'.");
        });
        var channels = CommonOptions.Channels();
        var architecture = new Option<string?>("--architecture")
        {
            Description = "Train a model of your own: a JSON architecture (name, input_shape, layers with their configs), as Sequential.Architecture() writes it. Replaces --model.",
        };
        var skipBad = new Option<bool>("--skip-bad-images") { Description = "With a folder of pictures: skip (and report) pictures that cannot be decoded instead of stopping." };

        var command = new Command("train", "Train a model on Fashion-MNIST, or on a folder of your own pictures, and report test accuracy.")
        {
            device, model, seed, dataDir, cacheDir, runDir, resume, imageSize, channels, skipBad, architecture,
        };
        foreach (var option in shared.All) command.Options.Add(option);
        command.Validators.Add(r =>
        {
            if (r.GetResult(resume) is not null && r.GetResult(runDir) is not null)
                r.AddError("--resume continues the run in its own folder: do not pass --run-dir with it.");
            // Under mpiexec only rank 0 writes the run folder; the others must not see it appear as they parse.
            if (r.GetValue(runDir) is { } dir && MpiSession.LaunchedRank() == 0 && RunFolder.RefuseExisting(dir) is { } problem) r.AddError(problem + ".");
            if (r.GetValue(resume) is { } from && !File.Exists(Path.Combine(from, GpuCnn.Persistence.RunFiles.Checkpoint)))
                r.AddError($"--resume {from}: no {GpuCnn.Persistence.RunFiles.Checkpoint} there to resume from.");
        });
        command.SetAction(parse =>
        {
            // Under mpiexec -n N (N > 1) every rank joins the job; rank 0 alone prints and writes.
            DataParallel? parallel = null;
            int code = CliErrors.Run(() =>
            {
                parallel = DataParallel.Join();
                return Train(parse, parallel);
            });
            // A failed rank ends the job, rather than leave the others waiting in a collective.
            if (code != 0) parallel?.Abort(code);
            parallel?.Dispose();
            return code;
        });
        return command;

        int Train(ParseResult parse, DataParallel? parallel)
        {
            string commandLine = "gpucnn " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
            var kind = CommonOptions.ParseDevice(parse.GetValue(device)!);
            bool root = parallel?.IsRoot ?? true;
            var output = root ? Console.Out : TextWriter.Null;
            bool live = parallel is null && !Console.IsOutputRedirected;
            if (parse.GetValue(resume) is { } from)
            {
                var header = Checkpoint.Load(Path.Combine(from, RunFiles.Checkpoint)).Header;
                // Training may be complete while the final phase (test evaluation, model, reports) is not: then only that runs.
                if (Trainer.IsTrainingComplete(header.History, header.Options) && RunFolder.IsFinished(from))
                {
                    output.WriteLine($"{from} already finished after {header.History.Count} epochs; nothing to resume.");
                    return 0;
                }
                int ranks = parallel?.Size ?? 1;
                if (header.Options.Ranks != ranks)
                    throw new ArgumentException($"--resume {from}: the run was trained by {header.Options.Ranks} rank(s) and this is {ranks}; " +
                                                (header.Options.Ranks == 1 ? "resume it without mpiexec." : $"resume it with mpiexec -n {header.Options.Ranks}."));
                var folder = root ? RunFolder.Open(from, header.Command, header.History) : null;
                var resumed = header.Options with
                {
                    DataDir = parse.GetValue(dataDir) ?? header.Options.DataDir,
                    CacheDir = parse.GetValue(cacheDir) ?? header.Options.CacheDir,
                };
                new TrainingRun(resumed, kind, CommonOptions.Data(resumed.DataDir, resumed.CacheDir, resumed), output, live, folder, from, parallel).Execute();
                return 0;
            }
            var custom = parse.GetValue(architecture) is { } file ? ReadArchitecture(file) : null;
            var options = shared.Read(parse, defaults) with
            {
                Model = custom?["name"]?.GetValue<string>() ?? parse.GetValue(model)!,
                Architecture = custom,
                Seed = parse.GetValue(seed),
                DataDir = FullPath(parse.GetValue(dataDir)),
                CacheDir = FullPath(parse.GetValue(cacheDir)),
                ImageHeight = CommonOptions.ParseImageSize(parse.GetValue(imageSize)!)!.Value.Height,
                ImageWidth = CommonOptions.ParseImageSize(parse.GetValue(imageSize)!)!.Value.Width,
                Channels = parse.GetValue(channels),
                SkipBadImages = parse.GetValue(skipBad),
            };
            var runFolder = root ? RunFolder.Create(parse.GetValue(runDir) ?? RunFolder.DefaultPath(options.Model), commandLine) : null;
            new TrainingRun(options, kind, CommonOptions.Data(options.DataDir, options.CacheDir, options), output, live, runFolder, null, parallel).Execute();
            return 0;
        }
    }

    /// <summary>An architecture file, checked by building its layers' configs; one line naming the file otherwise.</summary>
    static System.Text.Json.Nodes.JsonObject ReadArchitecture(string file)
    {
        try
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))?.AsObject()
                       ?? throw new ArgumentException("empty");
            GpuCnn.Models.Sequential.FromArchitecture(json).Dispose();
            return json;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            throw new GpuCnn.Data.DataFileException(file, $"not a model architecture ({e.Message})");
        }
    }

    static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);
}
