using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

// Typed kernels, one class per parameter count (as Action<...> has one per count). ILGPU's
// loaders are generic in every kernel parameter; each class calls them with its own type
// arguments, so a kernel's signature is written once, in the type of its field, and nothing is
// looked up by reflection.
public sealed partial class KernelLauncher
{
    /// <summary>What every typed kernel has: its name (the kernel method's), for launch records and messages.</summary>
    abstract class TypedKernel(Delegate method, bool streams)
    {
        public string Name { get; } = method.Method.Name;

        /// <summary>
        /// An element-wise pass over contiguous items (<see cref="LaunchPlan.StreamChunk"/>): on a
        /// plan with a stream chunk it takes that many items a work-item, in groups of one.
        /// </summary>
        bool Streams { get; } = streams;

        protected int GroupSizeOn(LaunchPlan plan) => Streams && plan.StreamChunk > 0 ? 1 : plan.GroupSize;

        /// <summary>A streaming pass's runs are whole multiples of this many items (a kernel that takes its items four at a time: <see cref="ChunkQuad"/>).</summary>
        public int RunsOf { get; init; } = 1;

        protected WorkSplit SplitOn(LaunchPlan plan, int items) => Streams ? plan.StreamSplit(items, RunsOf) : plan.Split(items);
    }

    /// <summary>A kernel over Index1D and 3 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3>(Action<Index1D, T1, T2, T3> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct
    {
        Action<Index1D, T1, T2, T3>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3>(method));
            loaded((int)workItems, a1, a2, a3);
        }
    }

    /// <summary>A kernel over Index1D and 4 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4>(Action<Index1D, T1, T2, T3, T4> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        Action<Index1D, T1, T2, T3, T4>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4>(method));
            loaded((int)workItems, a1, a2, a3, a4);
        }
    }

    /// <summary>A kernel over Index1D and 5 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4, T5>(Action<Index1D, T1, T2, T3, T4, T5> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        Action<Index1D, T1, T2, T3, T4, T5>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5>(method));
            loaded((int)workItems, a1, a2, a3, a4, a5);
        }
    }

    /// <summary>A kernel over Index1D and 6 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4, T5, T6>(Action<Index1D, T1, T2, T3, T4, T5, T6> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        Action<Index1D, T1, T2, T3, T4, T5, T6>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6>(method));
            loaded((int)workItems, a1, a2, a3, a4, a5, a6);
        }
    }

    /// <summary>A kernel over Index1D and 7 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4, T5, T6, T7>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        Action<Index1D, T1, T2, T3, T4, T5, T6, T7>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7>(method));
            loaded((int)workItems, a1, a2, a3, a4, a5, a6, a7);
        }
    }

    /// <summary>A kernel over Index1D and 8 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4, T5, T6, T7, T8>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7, T8>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7, T8>(method));
            loaded((int)workItems, a1, a2, a3, a4, a5, a6, a7, a8);
        }
    }

    /// <summary>A kernel over Index1D and 9 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9>(method));
            loaded((int)workItems, a1, a2, a3, a4, a5, a6, a7, a8, a9);
        }
    }

    /// <summary>A kernel over Index1D and 10 more parameters, loaded on first use: implicitly grouped with the plan's group size, or auto-grouped.</summary>
    class Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> method, bool streams = false) : TypedKernel(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
        where T10 : struct
    {
        Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>? loaded;

        /// <summary>Reports the launch, then runs it unless it is a dry run.</summary>
        public void Launch(KernelLauncher on, long workItems, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10)
        {
            if (!on.Launching(Name, workItems, serialLoop, GroupSizeOn(on.Plan))) return;
            loaded ??= on.Build(launcher => GroupSizeOn(launcher.Plan) > 0
                ? launcher.accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(method, GroupSizeOn(launcher.Plan))
                : launcher.accelerator.LoadAutoGroupedStreamKernel<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(method));
            loaded((int)workItems, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 2 before it.</summary>
    sealed class SplitKernel<T1, T2>(Action<Index1D, T1, T2, WorkSplit> method, bool streams = false) : Kernel<T1, T2, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 3 before it.</summary>
    sealed class SplitKernel<T1, T2, T3>(Action<Index1D, T1, T2, T3, WorkSplit> method, bool streams = false) : Kernel<T1, T2, T3, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 4 before it.</summary>
    sealed class SplitKernel<T1, T2, T3, T4>(Action<Index1D, T1, T2, T3, T4, WorkSplit> method, bool streams = false) : Kernel<T1, T2, T3, T4, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3, T4 a4)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, a4, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 5 before it.</summary>
    sealed class SplitKernel<T1, T2, T3, T4, T5>(Action<Index1D, T1, T2, T3, T4, T5, WorkSplit> method, bool streams = false) : Kernel<T1, T2, T3, T4, T5, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, a4, a5, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 6 before it.</summary>
    sealed class SplitKernel<T1, T2, T3, T4, T5, T6>(Action<Index1D, T1, T2, T3, T4, T5, T6, WorkSplit> method, bool streams = false) : Kernel<T1, T2, T3, T4, T5, T6, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, a4, a5, a6, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 7 before it.</summary>
    sealed class SplitKernel<T1, T2, T3, T4, T5, T6, T7>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, WorkSplit> method, bool streams = false) : Kernel<T1, T2, T3, T4, T5, T6, T7, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, a4, a5, a6, a7, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 8 before it.</summary>
    sealed class SplitKernel<T1, T2, T3, T4, T5, T6, T7, T8>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, WorkSplit> method, bool streams = false) : Kernel<T1, T2, T3, T4, T5, T6, T7, T8, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, a4, a5, a6, a7, a8, split);
        }
    }

    /// <summary>A kernel whose last parameter is its <see cref="WorkSplit"/>, with 9 before it.</summary>
    sealed class SplitKernel<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, WorkSplit> method, bool streams = false)
        : Kernel<T1, T2, T3, T4, T5, T6, T7, T8, T9, WorkSplit>(method, streams)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        /// <summary>Splits items by the plan (<see cref="LaunchPlan.Split"/>, or StreamSplit for a streaming pass) and launches: each work-item loops over its block, serialPerItem elements per item.</summary>
        public void LaunchSplit(KernelLauncher on, int items, long serialPerItem, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9)
        {
            var split = SplitOn(on.Plan, items);
            Launch(on, split.Threads, split.Chunk * serialPerItem, a1, a2, a3, a4, a5, a6, a7, a8, a9, split);
        }
    }

    /// <summary>An explicitly grouped kernel (shared memory, barriers) of 6 parameters: launched with a <see cref="KernelConfig"/>.</summary>
    sealed class GroupedKernel<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> method) : TypedKernel(method, false)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        Action<KernelConfig, T1, T2, T3, T4, T5, T6>? loaded;

        public void Launch(KernelLauncher on, KernelConfig config, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6)
        {
            if (!on.Launching(Name, config.GridDim.LongSize * config.GroupDim.LongSize, serialLoop, config.GroupDim.Size)) return;
            loaded ??= on.Build(launcher => launcher.accelerator.LoadStreamKernel<T1, T2, T3, T4, T5, T6>(method));
            loaded(config, a1, a2, a3, a4, a5, a6);
        }
    }

    /// <summary>An explicitly grouped kernel of 7 parameters, as the one of 6.</summary>
    sealed class GroupedKernel<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> method) : TypedKernel(method, false)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7>? loaded;

        public void Launch(KernelLauncher on, KernelConfig config, long serialLoop, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7)
        {
            if (!on.Launching(Name, config.GridDim.LongSize * config.GroupDim.LongSize, serialLoop, config.GroupDim.Size)) return;
            loaded ??= on.Build(launcher => launcher.accelerator.LoadStreamKernel<T1, T2, T3, T4, T5, T6, T7>(method));
            loaded(config, a1, a2, a3, a4, a5, a6, a7);
        }
    }
}
