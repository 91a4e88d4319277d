"""Replay recorded load: ECS autoscaling simulator, policy optimizer, backtest, Lambda break-even.

Entry points for other stages:
- `simulate(load, config, policies, scheduled, settings)` -> SimulationResult (reference replay);
- `optimize(load, config, slo=..., space=...)` -> OptimizationResult (vectorised search);
- `backtest(...)` / `run_backtest(path, options)` -> rows against an oracle and baselines;
- `compare_targets(load, config, current, targets)` -> task-hours, cost, breaches per target;
- `policies_from_terraform(service, index)` -> ServiceScaling (config + policies from HCL);
- `lambda_breakeven(...)` -> Lambda vs Fargate monthly cost curves and the break-even volume.
"""

from leanstack.simulate.backtest import (
    BASELINES,
    BacktestResult,
    BacktestRow,
    TargetComparisonRow,
    backtest,
    compare_targets,
    oracle,
)
from leanstack.simulate.ecs import (
    Load,
    ScalingEvent,
    SimulationResult,
    find_step,
    percent_adjustment,
    simulate,
    split_table,
)
from leanstack.simulate.lambda_breakeven import (
    BreakevenResult,
    CurvePoint,
    DurationProfile,
    Front,
    LambdaSetup,
    lambda_breakeven,
)
from leanstack.simulate.optimizer import (
    Candidate,
    CandidateScore,
    OptimizationResult,
    SearchSpace,
    SloSettings,
    memory_for,
    optimize,
)
from leanstack.simulate.policies import (
    AdjustmentType,
    CapacityProviderItem,
    Comparison,
    Deployment,
    Policy,
    ScheduledAction,
    ServiceConfig,
    SimulationSettings,
    StepAdjustment,
    StepAlarm,
    StepScalingPolicy,
    TargetTrackingPolicy,
)
from leanstack.simulate.pricing import FargateRates, fargate_rates
from leanstack.simulate.run import BacktestOptions, BacktestReport, run_backtest
from leanstack.simulate.terraform import ServiceScaling, policies_from_terraform

__all__ = [
    "BASELINES",
    "AdjustmentType",
    "BacktestOptions",
    "BacktestReport",
    "BacktestResult",
    "BacktestRow",
    "BreakevenResult",
    "Candidate",
    "CandidateScore",
    "CapacityProviderItem",
    "Comparison",
    "CurvePoint",
    "Deployment",
    "DurationProfile",
    "FargateRates",
    "Front",
    "LambdaSetup",
    "Load",
    "OptimizationResult",
    "Policy",
    "ScalingEvent",
    "ScheduledAction",
    "SearchSpace",
    "ServiceConfig",
    "ServiceScaling",
    "SimulationResult",
    "SimulationSettings",
    "SloSettings",
    "StepAdjustment",
    "StepAlarm",
    "StepScalingPolicy",
    "TargetComparisonRow",
    "TargetTrackingPolicy",
    "backtest",
    "compare_targets",
    "fargate_rates",
    "find_step",
    "lambda_breakeven",
    "memory_for",
    "optimize",
    "oracle",
    "percent_adjustment",
    "policies_from_terraform",
    "run_backtest",
    "simulate",
    "split_table",
]
