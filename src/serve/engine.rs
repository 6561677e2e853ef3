//! The scheduler loop, as vLLM's V1 scheduler runs it (vllm/v1/core/sched/scheduler.py):
//! each step first serves the running requests in order (decodes and unfinished prefill
//! chunks), allocating KV blocks and preempting the last running request (recomputation: it
//! goes back to the front of the queue and loses its cache) when blocks run out; then, if
//! nothing was preempted, admits waiting requests first come first served while
//! `max_num_seqs`, the step's `max_num_batched_tokens` and the free blocks allow.

use super::step::{Pricer, Prompt, Work};
use super::workload::Request;
use super::{Limits, RequestResult, Sample};
use crate::error::keys::{
    GPU_MEMORY_UTILIZATION, KV_CACHE_GB, MAX_NUM_BATCHED_TOKENS, NO_CHUNKED_PREFILL, TP,
};
use crate::error::{Error, Result};
use std::collections::VecDeque;

/// A request inside the engine.
#[derive(Debug, Clone)]
struct Live {
    id: usize,
    /// Index into the prompt table.
    prompt: usize,
    /// Prefill tokens to compute at this admission (prompt + tokens generated before a
    /// preemption), layer 0's count.
    target: u64,
    /// Of `target`, computed so far (chunked prefill).
    computed: u64,
    generated: u64,
    /// Layer-blocks held (a block is `block_size` tokens of one layer).
    blocks: u64,
    preemptions: u32,
}

impl Live {
    fn in_prefill(&self) -> bool {
        self.computed < self.target
    }
}

/// What the engine produced: per request, and the timeline.
pub struct Outcome {
    pub requests: Vec<RequestResult>,
    pub timeline: Vec<Sample>,
    pub preemptions: u64,
    pub steps: u64,
}

/// Layer-blocks for `tokens(l)` tokens in every layer.
fn blocks(layers: usize, block: u64, tokens: impl Fn(usize) -> u64) -> u64 {
    (0..layers).map(|l| tokens(l).div_ceil(block)).sum()
}

/// Runs `requests` (sorted by arrival; `prompt_of[i]` indexes `prompts`) to completion.
pub fn run(
    pricer: &mut Pricer,
    prompts: &[Prompt],
    requests: &[Request],
    prompt_of: &[usize],
    limits: &Limits,
    capacity_blocks: u64,
) -> Result<Outcome> {
    let layers = pricer.layers();
    let bs = limits.block_size;
    // Blocks a request holds once `computed` prefill tokens (with `extra` generated ones
    // recomputed) or, after the prefill, its whole prompt and `cached` generated tokens are in.
    let held = |p: &Prompt, computed: u64, target: u64, cached: u64| -> u64 {
        if p.prunes {
            // Whole prefills only: nothing until it is in; then each layer its own length.
            if computed < target {
                0
            } else {
                blocks(layers, bs, |l| p.layer_tokens[l] + cached)
            }
        } else {
            let n = if computed < target {
                computed
            } else {
                p.tokens() + cached
            };
            layers as u64 * n.div_ceil(bs)
        }
    };
    // Every request must fit alone, at its longest, or it would never finish.
    for (i, r) in requests.iter().enumerate() {
        let p = &prompts[prompt_of[i]];
        let need = held(p, 1, 1, r.output_tokens.saturating_sub(1));
        if need > capacity_blocks {
            // A stated cache size sets the memory share aside: raising the share fixed nothing.
            let room = if limits.kv_cache_bytes.is_some() {
                format!("raise {KV_CACHE_GB}")
            } else {
                format!("raise {GPU_MEMORY_UTILIZATION}, use {TP}")
            };
            return Err(Error::invalid(format!(
                "a request of {} frames, {} text and {} output tokens needs {} KV blocks alone, the cache has {}: {room}, a smaller model or fewer frames",
                r.frames, r.text_tokens, r.output_tokens, need, capacity_blocks
            )));
        }
        if p.prunes && p.tokens() + r.output_tokens > limits.max_num_batched_tokens {
            return Err(Error::invalid(format!(
                "a pruned prompt of {} tokens (+{} generated if recomputed) runs whole in one step, but {MAX_NUM_BATCHED_TOKENS} is {}: raise it",
                p.tokens(), r.output_tokens, limits.max_num_batched_tokens
            )));
        }
        if !limits.chunked_prefill && p.tokens() + r.output_tokens > limits.max_num_batched_tokens {
            return Err(Error::invalid(format!(
                "a prompt of {} tokens does not fit {MAX_NUM_BATCHED_TOKENS} {} without chunked prefill: raise it or drop {NO_CHUNKED_PREFILL}",
                p.tokens(), limits.max_num_batched_tokens
            )));
        }
    }

    let mut results: Vec<RequestResult> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| RequestResult {
            id: i,
            arrival_s: r.arrival_s,
            frames: r.frames,
            text_tokens: r.text_tokens,
            prompt_tokens: prompts[prompt_of[i]].tokens(),
            output_tokens: r.output_tokens,
            first_token_s: f64::NAN,
            finish_s: f64::NAN,
            ttft_s: f64::NAN,
            tpot_s: f64::NAN,
            e2e_s: f64::NAN,
            preemptions: 0,
        })
        .collect();
    let mut next_arrival = 0usize;
    let mut waiting: VecDeque<Live> = VecDeque::new();
    let mut running: Vec<Live> = Vec::new();
    let mut free = capacity_blocks;
    let mut now = 0.0f64;
    let mut timeline = Vec::new();
    let (mut preemptions, mut steps, mut done) = (0u64, 0u64, 0usize);
    // Scratch per step: (index into running, new tokens).
    let mut scheduled: Vec<(usize, u64)> = Vec::new();
    let mut work: Vec<Work> = Vec::new();

    while done < requests.len() {
        while next_arrival < requests.len() && requests[next_arrival].arrival_s <= now {
            let p = prompt_of[next_arrival];
            waiting.push_back(Live {
                id: next_arrival,
                prompt: p,
                target: prompts[p].tokens(),
                computed: 0,
                generated: 0,
                blocks: 0,
                preemptions: 0,
            });
            next_arrival += 1;
        }
        if running.is_empty() && waiting.is_empty() {
            now = requests[next_arrival].arrival_s;
            continue;
        }

        // 1. Running requests, in order.
        scheduled.clear();
        let mut budget = limits.max_num_batched_tokens;
        let mut preempted = false;
        let mut i = 0;
        while i < running.len() && budget > 0 {
            let r = &running[i];
            let p = &prompts[r.prompt];
            let need = if r.in_prefill() {
                let remaining = r.target - r.computed;
                if p.prunes || !limits.chunked_prefill {
                    if remaining > budget {
                        i += 1;
                        continue;
                    }
                    remaining
                } else {
                    remaining.min(budget)
                }
            } else {
                1
            };
            let after = if r.in_prefill() {
                held(p, r.computed + need, r.target, r.generated)
            } else {
                held(p, 1, 1, r.generated)
            };
            let mut new = after.saturating_sub(r.blocks);
            while new > free {
                // Preempt the last running request (maybe this one).
                let mut victim = running.pop().expect("running holds request i");
                free += victim.blocks;
                victim.blocks = 0;
                victim.computed = 0;
                victim.target = prompts[victim.prompt].tokens() + victim.generated;
                victim.preemptions += 1;
                preemptions += 1;
                preempted = true;
                let was_self = running.len() == i;
                waiting.push_front(victim);
                if was_self {
                    new = 0;
                    break;
                }
            }
            if i >= running.len() {
                break;
            }
            free -= new;
            running[i].blocks += new;
            scheduled.push((i, need));
            budget -= need;
            i += 1;
        }

        // 2. Waiting requests, first come first served, unless this step preempted.
        if !preempted {
            while budget > 0 && (running.len() as u64) < limits.max_num_seqs {
                let Some(r) = waiting.front() else { break };
                let p = &prompts[r.prompt];
                let need = if p.prunes || !limits.chunked_prefill {
                    if r.target > budget {
                        break;
                    }
                    r.target
                } else {
                    r.target.min(budget)
                };
                let new = held(p, need, r.target, r.generated);
                if new > free {
                    break;
                }
                let mut r = waiting.pop_front().expect("front exists");
                free -= new;
                r.blocks = new;
                running.push(r);
                scheduled.push((running.len() - 1, need));
                budget -= need;
            }
        }

        if scheduled.is_empty() {
            if next_arrival < requests.len() && running.is_empty() {
                now = now.max(requests[next_arrival].arrival_s);
                continue;
            }
            return Err(Error::invalid(
                format!("the scheduler cannot place any request (a prompt larger than the token budget or the cache): raise {MAX_NUM_BATCHED_TOKENS} or {GPU_MEMORY_UTILIZATION}"),
            ));
        }

        // 3. Price the step.
        work.clear();
        let mut extra_s = 0.0;
        let mut prefill_tokens = 0u64;
        for &(i, need) in &scheduled {
            let r = &running[i];
            let p = &prompts[r.prompt];
            if r.in_prefill() {
                if r.computed == 0 {
                    extra_s += p.stages_s;
                }
                prefill_tokens += need;
                if p.prunes {
                    extra_s += p.importance_s;
                    work.push(Work::Whole {
                        layer_tokens: &p.layer_tokens,
                        extra: r.generated,
                    });
                } else {
                    work.push(Work::Chunk {
                        start: r.computed,
                        end: r.computed + need,
                    });
                }
            } else {
                work.push(Work::Decode {
                    layer_tokens: &p.layer_tokens,
                    generated: r.generated,
                });
            }
        }
        let dt = pricer.step_time(&work, extra_s);
        let batch = scheduled.len();
        let start = now;
        now += dt;
        steps += 1;

        // 4. Advance the scheduled requests; finished ones leave.
        let mut finished: Vec<usize> = Vec::new();
        for &(i, need) in &scheduled {
            let r = &mut running[i];
            let token = if r.in_prefill() {
                r.computed += need;
                !r.in_prefill()
            } else {
                true
            };
            if token {
                r.generated += 1;
                let res = &mut results[r.id];
                if res.first_token_s.is_nan() {
                    res.first_token_s = now;
                }
                if r.generated >= requests[r.id].output_tokens {
                    res.finish_s = now;
                    res.preemptions = r.preemptions;
                    finished.push(i);
                }
            }
        }
        finished.sort_unstable();
        for &i in finished.iter().rev() {
            let r = running.remove(i);
            free += r.blocks;
            done += 1;
        }
        timeline.push(Sample {
            start_s: start,
            time_s: dt,
            batch: batch as u32,
            prefill_tokens: prefill_tokens as u32,
            queued: waiting.len() as u32,
            kv_used: ((capacity_blocks - free) as f64 / capacity_blocks as f64) as f32,
        });
    }
    for r in &mut results {
        r.ttft_s = r.first_token_s - r.arrival_s;
        r.e2e_s = r.finish_s - r.arrival_s;
        r.tpot_s = if r.output_tokens > 1 {
            (r.finish_s - r.first_token_s) / (r.output_tokens - 1) as f64
        } else {
            0.0
        };
    }
    Ok(Outcome {
        requests: results,
        timeline,
        preemptions,
        steps,
    })
}
