//! The most need that providers of limited capacity can serve within reach: a maximum flow
//! from places (need) to providers (capacity) over the pairs within reach, solved exactly in
//! integer units.
//!
//! The pairs are never all listed at once. A start is built nearest first: place by place,
//! in place order, need goes to the nearest providers within reach that still have room,
//! full providers being taken out of the search. Then, for every place left with unmet need,
//! augmenting paths are searched breadth first: place, any provider within reach, a place
//! that provider serves (its need may move to another provider), and so on until a provider
//! with room. A search that finds none marks everything it saw as settled: a node that
//! cannot reach spare capacity in the residual graph never can again (an augmentation only
//! adds residual edges between nodes that could reach it), so settled nodes are skipped
//! for good. When no place can augment, the flow is maximum (Ford and Fulkerson); its total
//! does not depend on the order of the start or of the searches, which only decide who
//! serves whom among the maximum assignments (nearest first where nothing forced a move).
//!
//! Also the facility-by-facility fill of WHO's AccessMod (geographic coverage analysis):
//! each provider in a chosen order takes the need of the places within its reach, nearest
//! first, up to its capacity. Its total depends on the order and is never above the maximum.

/// Units per person: need and capacity are counted in ten-thousandths of a person, so the
/// flow is integer arithmetic and its totals are exact.
pub const UNIT: f64 = 10_000.0;

/// `x` people in units.
pub fn units(x: f64) -> i64 {
    (x * UNIT).round() as i64
}

/// One side of the pairs (providers with room, or places with unmet need) still offered to
/// the other while an assignment fills them.
pub trait Open {
    /// The open members within reach of `from` (of the other side), nearest first (ties by
    /// index), with their cost, until `take` returns false.
    fn visit(&mut self, from: usize, take: &mut dyn FnMut(u32, f64) -> bool);
    /// `member` is done (full, or served): no longer offer it.
    fn close(&mut self, member: u32);
}

/// The pairs within reach of one role's providers and the demand places.
pub trait Pairs: Sync {
    fn places(&self) -> usize;
    fn providers(&self) -> usize;
    /// Number of providers within reach of `place`, or an estimate of it (it orders the
    /// start: places with fewer options are served first).
    fn degree(&self, place: usize) -> u32;
    /// Every provider within reach of `place`, in a fixed order.
    fn providers_of(&self, place: usize, out: &mut Vec<u32>);
    /// The cost (metres or minutes) of a pair within reach.
    fn cost(&self, place: usize, provider: usize) -> f64;
    /// The provider nearest to `place` with its cost, if it is within reach: what a visit of
    /// [`Self::open_providers`] hands out first while that provider is open. `None` where
    /// it is not known (the visit then finds it) or not within reach.
    fn nearest(&self, _place: usize) -> Option<(u32, f64)> {
        None
    }
    /// The providers, all open, for the nearest-first start.
    fn open_providers(&self) -> Box<dyn Open + '_>;
    /// The places, all open, for AccessMod's fill.
    fn open_places(&self) -> Box<dyn Open + '_>;
}

/// One flow: who serves whom.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Need served per place, units.
    pub served: Vec<i64>,
    /// Need assigned per provider, units.
    pub assigned: Vec<i64>,
    /// Per provider: (place, units, cost) it serves, places ascending.
    pub assignments: Vec<Vec<(u32, i64, f64)>>,
}

impl Flow {
    fn new(places: usize, providers: usize) -> Flow {
        Flow {
            served: vec![0; places],
            assigned: vec![0; providers],
            assignments: vec![Vec::new(); providers],
        }
    }

    pub fn total(&self) -> i64 {
        self.served.iter().sum()
    }

    /// Units times cost summed over the assignments, providers in order.
    pub fn travel(&self) -> f64 {
        self.assignments.iter().flatten().map(|&(_, x, c)| x as f64 * c).sum()
    }

    fn add(&mut self, place: u32, provider: u32, x: i64, cost: impl FnOnce() -> f64) {
        let list = &mut self.assignments[provider as usize];
        match list.iter_mut().find(|e| e.0 == place) {
            Some(e) => e.1 += x,
            None => list.push((place, x, cost())),
        }
    }

    fn finish(mut self) -> Flow {
        for list in &mut self.assignments {
            list.retain(|e| e.1 != 0);
            list.sort_unstable_by_key(|e| e.0);
        }
        self
    }
}

/// The order places are served in: fewest providers within reach first (ties in place
/// order), so that places with few options are served before their providers fill up.
fn place_order(pairs: &dyn Pairs, need: &[i64]) -> Vec<u32> {
    use rayon::prelude::*;
    let mut order: Vec<(u32, u32)> = (0..pairs.places())
        .into_par_iter()
        .filter(|&p| need[p] > 0)
        .map(|p| (pairs.degree(p), p as u32))
        .filter(|&(d, _)| d > 0)
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, p)| p).collect()
}

/// What the last search of a maximum flow reached from the places with unmet need: the
/// source side of a minimum cut. Its providers are full and serve only its places; its
/// places reach only its providers. Outside it every place is served in full, so a
/// shortfall is shared out within it alone.
struct Contested {
    places: Vec<bool>,
    providers: Vec<bool>,
}

/// Raising a flow step by step for one problem, with what the steps share: the providers
/// still open (a full provider never has room again: augmenting only fills providers),
/// the places that found none open within reach (they never will), and each place's
/// provider list once asked for.
struct Raiser<'a> {
    pairs: &'a dyn Pairs,
    capacity: &'a [i64],
    order: Vec<u32>,
    open: Box<dyn Open + 'a>,
    closed: Vec<bool>,
    stuck: Vec<bool>,
    within: Lists,
}

impl<'a> Raiser<'a> {
    fn new(pairs: &'a dyn Pairs, capacity: &'a [i64], need: &[i64]) -> Self {
        Raiser::in_order(pairs, capacity, place_order(pairs, need))
    }

    /// A raiser serving places in `order` (as [`place_order`] gives it, or part of it).
    fn in_order(pairs: &'a dyn Pairs, capacity: &'a [i64], order: Vec<u32>) -> Self {
        Raiser {
            pairs,
            capacity,
            order,
            open: pairs.open_providers(),
            closed: vec![false; pairs.providers()],
            stuck: vec![false; pairs.places()],
            within: Lists::new(pairs.places()),
        }
    }

    /// The nearest-first start, onto `flow`: every place in order takes the nearest
    /// providers with room for what it still needs.
    fn nearest_first(&mut self, need: &[i64], flow: &mut Flow) {
        let capacity = self.capacity;
        for (j, &c) in capacity.iter().enumerate() {
            if flow.assigned[j] >= c && !self.closed[j] {
                self.closed[j] = true;
                self.open.close(j as u32);
            }
        }
        let mut full: Vec<u32> = Vec::new();
        for &p in &self.order {
            let p = p as usize;
            let mut rest = need[p] - flow.served[p];
            if rest <= 0 || self.stuck[p] {
                continue;
            }
            // The place's nearest provider, when known and open, is the visit's first: served
            // from it without a search; the visit is made only for what it cannot take (then
            // full, and closed first, so that the visit hands out the ones after it).
            if let Some((j, cost)) = self.pairs.nearest(p) {
                if !self.closed[j as usize] {
                    if take_from(flow, capacity, p, j, cost, &mut rest) {
                        self.closed[j as usize] = true;
                        self.open.close(j);
                    }
                    if rest == 0 {
                        continue;
                    }
                }
            }
            self.open.visit(p, &mut |j, cost| {
                if take_from(flow, capacity, p, j, cost, &mut rest) {
                    full.push(j);
                }
                rest > 0
            });
            self.stuck[p] = rest > 0;
            for j in full.drain(..) {
                if !self.closed[j as usize] {
                    self.closed[j as usize] = true;
                    self.open.close(j);
                }
            }
        }
    }

    /// Raises `flow` to a maximum flow for `need`: the nearest-first start, then Dinic's
    /// phases. Augmenting paths never take need away from a place, so what `flow` served
    /// stays served.
    fn raise(&mut self, need: &[i64], flow: &mut Flow) -> Contested {
        self.nearest_first(need, flow);
        let mut dinic = Dinic::new(self.pairs, need, self.capacity, std::mem::take(&mut self.within));
        while dinic.levels(flow, &self.order) {
            dinic.blocking_flow(flow, &self.order);
        }
        // The last breadth-first pass found no provider with room: what it reached is the
        // source side of a minimum cut.
        let contested = Contested {
            places: dinic.place_level.iter().map(|&l| l != NONE).collect(),
            providers: dinic.provider_level.iter().map(|&l| l != NONE).collect(),
        };
        self.within = std::mem::take(&mut dinic.within);
        contested
    }
}

/// Place `p` takes what it can of `rest` from provider `j` at `cost`; true if `j` is full.
fn take_from(flow: &mut Flow, capacity: &[i64], p: usize, j: u32, cost: f64, rest: &mut i64) -> bool {
    let ju = j as usize;
    let x = (*rest).min(capacity[ju] - flow.assigned[ju]);
    if x > 0 {
        flow.add(p as u32, j, x, || cost);
        flow.assigned[ju] += x;
        flow.served[p] += x;
        *rest -= x;
    }
    flow.assigned[ju] >= capacity[ju]
}

/// The maximum flow: the nearest-first start, then Dinic's phases over the residual graph
/// (see the module notes).
pub fn max_flow(pairs: &dyn Pairs, need: &[i64], capacity: &[i64]) -> Flow {
    let mut flow = Flow::new(pairs.places(), pairs.providers());
    Raiser::new(pairs, capacity, need).raise(need, &mut flow);
    flow.finish()
}

/// A maximum flow that shares a shortfall out. First a maximum flow; the places its last
/// search reaches from those with unmet need (with the full providers they share) are the
/// contested ones, and only they are served again, in steps: every contested place up to
/// each fraction in `tiers` of their average share (their providers' capacity over their
/// need), then the whole need, each step raised from the one before (what a step served
/// stays served). The total is the
/// maximum, as [`max_flow`]'s; the unserved need is spread over the places that compete
/// for the same providers instead of gathering where many do.
pub fn max_flow_shared(pairs: &dyn Pairs, need: &[i64], capacity: &[i64], tiers: &[f64]) -> Flow {
    let mut flow = Flow::new(pairs.places(), pairs.providers());
    let mut raiser = Raiser::new(pairs, capacity, need);
    let contested = raiser.raise(need, &mut flow);
    if !contested.places.iter().any(|&c| c) {
        return flow.finish();
    }
    // Take back what the contested providers were given (all of it went to contested
    // places), then serve the contested places again in steps; the rest stays as it is.
    for (j, list) in flow.assignments.iter_mut().enumerate() {
        if contested.providers[j] {
            for e in list.iter_mut() {
                flow.served[e.0 as usize] -= e.1;
                e.1 = 0;
            }
            flow.assigned[j] = 0;
        }
    }
    // The same order of places (the same need), the contested ones only.
    let mut order = std::mem::take(&mut raiser.order);
    order.retain(|&p| contested.places[p as usize]);
    let within = std::mem::take(&mut raiser.within);
    let mut raiser = Raiser::in_order(pairs, capacity, order);
    raiser.within = within;
    // The contested places' share on average: what their providers can give over what
    // they need. Steps up to fractions of it, then the whole need.
    let supply: i64 = (0..capacity.len())
        .filter(|&j| contested.providers[j])
        .map(|j| capacity[j].max(0))
        .sum();
    let wanted: i64 = (0..need.len()).filter(|&p| contested.places[p]).map(|p| need[p]).sum();
    let share = if wanted > 0 { supply as f64 / wanted as f64 } else { 1.0 };
    let steps: Vec<f64> = tiers.iter().map(|t| t * share).chain([1.0]).collect();
    for f in steps {
        let target: Vec<i64> = need
            .iter()
            .zip(&contested.places)
            .map(|(&n, &c)| if c { ((n as f64 * f).floor() as i64).min(n) } else { n })
            .collect();
        raiser.raise(&target, &mut flow);
    }
    flow.finish()
}

/// A maximum flow that serves `first` (at most `need` per place) as fully as possible before
/// the rest: the most of `first` that can be served, then raised to a maximum flow for
/// `need`, which keeps every place's share of `first`. Its total equals [`max_flow`]'s; it
/// lines a role's assignment up with places another role serves.
pub fn max_flow_first(pairs: &dyn Pairs, first: &[i64], need: &[i64], capacity: &[i64]) -> Flow {
    let mut flow = Flow::new(pairs.places(), pairs.providers());
    let mut raiser = Raiser::new(pairs, capacity, need);
    raiser.raise(first, &mut flow);
    raiser.raise(need, &mut flow);
    flow.finish()
}

/// A maximum flow lined up with `first`: from `own`, a maximum flow for `need`, need moves
/// between places (never the total) until as much of `first` is served as any maximum flow
/// can serve. Paths run from places served below `first` to places served above it, which
/// give up what they have beyond `first`. No such path left means no flow serves more of
/// `first` (cut the surplus away and the paths are Ford and Fulkerson's in the network of
/// `first`); the total stays `own`'s. Same figures as [`max_flow_first`], from a warm start.
pub fn align(pairs: &dyn Pairs, own: &Flow, first: &[i64], capacity: &[i64]) -> Flow {
    let order = place_order(pairs, first);
    let mut flow = own.clone();
    let mut dinic = Dinic::new(pairs, first, capacity, Lists::new(pairs.places()));
    dinic.give = Some(first);
    while dinic.levels(&mut flow, &order) {
        dinic.blocking_flow(&mut flow, &order);
    }
    flow.finish()
}

/// Each place's providers, listed when first asked for and kept for the problem's later
/// searches, one after another in one buffer (a quarter of a million places: no allocation
/// per list).
#[derive(Default)]
struct Lists {
    /// Per place, where its list starts in `items` and its length; [`UNLISTED`] before it
    /// is listed.
    span: Vec<(usize, u32)>,
    items: Vec<u32>,
    scratch: Vec<u32>,
}

/// The start of a place not yet listed.
const UNLISTED: usize = usize::MAX;

impl Lists {
    fn new(places: usize) -> Self {
        Lists {
            span: vec![(UNLISTED, 0); places],
            items: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The positions in `items` of place `p`'s providers (listed now if not yet).
    fn list(&mut self, pairs: &dyn Pairs, p: usize) -> std::ops::Range<usize> {
        let (start, len) = self.span[p];
        if start != UNLISTED {
            return start..start + len as usize;
        }
        pairs.providers_of(p, &mut self.scratch);
        let start = self.items.len();
        self.items.extend_from_slice(&self.scratch);
        self.span[p] = (start, self.scratch.len() as u32);
        start..self.items.len()
    }
}

/// Not reached in this phase's level graph (or blocked in it).
const NONE: u32 = u32::MAX;

/// The state of Dinic's algorithm on the implicit residual graph: source to places with
/// unmet need, place to every provider within reach, provider back to the places it serves,
/// provider to sink while it has room.
struct Dinic<'a> {
    pairs: &'a dyn Pairs,
    need: &'a [i64],
    capacity: &'a [i64],
    /// Each place's providers, listed once when a phase first reaches it.
    within: Lists,
    place_level: Vec<u32>,
    provider_level: Vec<u32>,
    place_arc: Vec<u32>,
    provider_arc: Vec<u32>,
    /// The level of the providers with room (or places with surplus) that end this phase's
    /// shortest paths.
    sink_level: u32,
    /// Places served above this give up the surplus: they end paths too ([`align`]).
    give: Option<&'a [i64]>,
}

impl<'a> Dinic<'a> {
    /// `within`: the provider lists known so far.
    fn new(pairs: &'a dyn Pairs, need: &'a [i64], capacity: &'a [i64], within: Lists) -> Self {
        let (np, nj) = (pairs.places(), pairs.providers());
        Dinic {
            pairs,
            need,
            capacity,
            within,
            place_level: vec![NONE; np],
            provider_level: vec![NONE; nj],
            place_arc: vec![0; np],
            provider_arc: vec![0; nj],
            sink_level: NONE,
            give: None,
        }
    }

    /// What place `q` served beyond `give`.
    fn surplus(&self, flow: &Flow, q: usize) -> i64 {
        self.give.map_or(0, |g| (flow.served[q] - g[q]).max(0))
    }

    /// Breadth first from every place with unmet need, up to the first level holding a
    /// provider with room. False when there is none: the flow is maximum.
    fn levels(&mut self, flow: &mut Flow, order: &[u32]) -> bool {
        self.place_level.fill(NONE);
        self.provider_level.fill(NONE);
        self.place_arc.fill(0);
        self.provider_arc.fill(0);
        self.sink_level = NONE;
        let mut queue: std::collections::VecDeque<u32> = order
            .iter()
            .copied()
            .filter(|&p| flow.served[p as usize] < self.need[p as usize])
            .collect();
        for &p in &queue {
            self.place_level[p as usize] = 0;
        }
        while let Some(p) = queue.pop_front() {
            let next = self.place_level[p as usize] + 1;
            if next > self.sink_level {
                break;
            }
            let range = self.within.list(self.pairs, p as usize);
            for &j in &self.within.items[range] {
                let ju = j as usize;
                // Most providers of a search from many places are reached before their
                // next listing: that test first.
                if self.provider_level[ju] != NONE || self.capacity[ju] <= 0 {
                    continue;
                }
                self.provider_level[ju] = next;
                if flow.assigned[ju] < self.capacity[ju] {
                    self.sink_level = next;
                    continue;
                }
                if next >= self.sink_level {
                    continue;
                }
                for &(q, x, _) in &flow.assignments[ju] {
                    if x > 0 && self.place_level[q as usize] == NONE {
                        self.place_level[q as usize] = next + 1;
                        if self.surplus(flow, q as usize) > 0 {
                            self.sink_level = self.sink_level.min(next + 1);
                        } else {
                            queue.push_back(q);
                        }
                    }
                }
            }
        }
        self.sink_level != NONE
    }

    /// Augments along shortest paths of this phase until none is left (current-arc
    /// pointers: an arc found useless is never tried again in the phase).
    fn blocking_flow(&mut self, flow: &mut Flow, order: &[u32]) {
        // The path: (place, provider, index of the next place in the provider's list).
        let mut path: Vec<(u32, u32, u32)> = Vec::new();
        for &s in order {
            let su = s as usize;
            if self.place_level[su] != 0 {
                continue;
            }
            while flow.served[su] < self.need[su] && self.place_level[su] != NONE {
                path.clear();
                let mut p = s;
                let mut end_at_place = false;
                loop {
                    let pu = p as usize;
                    let level = self.place_level[pu];
                    // The next provider of p on the level graph.
                    let mut step = None;
                    while step.is_none() {
                        // Past the providers off the next level in one scan of the list.
                        let range = self.within.list(self.pairs, pu);
                        let items = &self.within.items[range];
                        let mut arc = self.place_arc[pu] as usize;
                        while items
                            .get(arc)
                            .is_some_and(|&j| self.provider_level[j as usize] != level + 1)
                        {
                            arc += 1;
                        }
                        self.place_arc[pu] = arc as u32;
                        let Some(&j) = items.get(arc) else {
                            break;
                        };
                        let ju = j as usize;
                        if flow.assigned[ju] < self.capacity[ju] {
                            step = Some((j, None));
                            break;
                        }
                        // A full provider: on through a place it serves, one level down.
                        let mut found = None;
                        let list = &flow.assignments[ju];
                        while let Some(&(q, x, _)) = list.get(self.provider_arc[ju] as usize) {
                            if x > 0 && self.place_level[q as usize] == level + 2 {
                                found = Some(self.provider_arc[ju]);
                                break;
                            }
                            self.provider_arc[ju] += 1;
                        }
                        match found {
                            Some(k) => {
                                let q = flow.assignments[ju][k as usize].0 as usize;
                                step = Some((j, Some(k)));
                                end_at_place = self.surplus(flow, q) > 0;
                            }
                            None => {
                                self.provider_level[ju] = NONE;
                                self.place_arc[pu] += 1;
                            }
                        }
                    }
                    match step {
                        None => {
                            // p is a dead end this phase: block it and step back.
                            self.place_level[pu] = NONE;
                            match path.pop() {
                                None => break,
                                Some((prev, j, _)) => {
                                    self.provider_arc[j as usize] += 1;
                                    p = prev;
                                }
                            }
                        }
                        Some((j, Some(k))) => {
                            path.push((p, j, k));
                            if end_at_place {
                                self.augment(flow, su, &path);
                                break;
                            }
                            p = flow.assignments[j as usize][k as usize].0;
                        }
                        Some((j, None)) => {
                            path.push((p, j, NONE));
                            self.augment(flow, su, &path);
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Moves the bottleneck along `path`: from `s` to a provider with room (the last entry
    /// without a next place), or to a place that gives up its surplus (the last entry's next
    /// place).
    fn augment(&self, flow: &mut Flow, s: usize, path: &[(u32, u32, u32)]) {
        let Some(&(_, end, last)) = path.last() else { return };
        let mut delta = self.need[s] - flow.served[s];
        let moved = if last == NONE {
            delta = delta.min(self.capacity[end as usize] - flow.assigned[end as usize]);
            &path[..path.len() - 1]
        } else {
            let q = flow.assignments[end as usize][last as usize].0 as usize;
            delta = delta.min(self.surplus(flow, q));
            path
        };
        for &(_, j, k) in moved {
            delta = delta.min(flow.assignments[j as usize][k as usize].1);
        }
        for &(p, j, k) in path {
            if k != NONE {
                flow.assignments[j as usize][k as usize].1 -= delta;
            }
            flow.add(p, j, delta, || self.pairs.cost(p as usize, j as usize));
        }
        flow.served[s] += delta;
        if last == NONE {
            flow.assigned[end as usize] += delta;
        } else {
            let q = flow.assignments[end as usize][last as usize].0 as usize;
            flow.served[q] -= delta;
        }
    }
}

/// AccessMod's fill: providers in `order`, each taking the unmet need of the places within
/// its reach, nearest first (ties by place), up to its capacity.
pub fn fill_in_order(pairs: &dyn Pairs, need: &[i64], capacity: &[i64], order: &[usize]) -> Flow {
    let mut flow = Flow::new(pairs.places(), pairs.providers());
    let mut open = pairs.open_places();
    for (p, &n) in need.iter().enumerate() {
        if n <= 0 {
            open.close(p as u32);
        }
    }
    let mut served: Vec<u32> = Vec::new();
    for &j in order {
        let mut room = capacity[j];
        if room <= 0 {
            continue;
        }
        open.visit(j, &mut |p, cost| {
            let x = (need[p as usize] - flow.served[p as usize]).min(room);
            if x > 0 {
                flow.add(p, j as u32, x, || cost);
                flow.served[p as usize] += x;
                flow.assigned[j] += x;
                room -= x;
            }
            if flow.served[p as usize] >= need[p as usize] {
                served.push(p);
            }
            room > 0
        });
        for p in served.drain(..) {
            open.close(p);
        }
    }
    flow.finish()
}

/// Pairs given as lists: per provider, its places within reach with their cost (from travel
/// times, or made by hand). Held both ways in compressed rows, nearest first (ties by
/// index), costs as `f32` (8 bytes a pair each way: the national pairs by road are counted
/// in hundreds of millions).
pub struct ListPairs {
    places: usize,
    /// Per place, its providers: `by_place[place_first[p]..place_first[p + 1]]`.
    place_first: Vec<usize>,
    by_place: Vec<(u32, f32)>,
    /// Per provider, its places: `by_provider[provider_first[j]..provider_first[j + 1]]`.
    provider_first: Vec<usize>,
    by_provider: Vec<(u32, f32)>,
}

impl ListPairs {
    pub fn new(places: usize, lists: Vec<Vec<(u32, f64)>>) -> ListPairs {
        let mut provider_first = Vec::with_capacity(lists.len() + 1);
        provider_first.push(0);
        let mut by_provider: Vec<(u32, f32)> = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        let mut count = vec![0usize; places + 1];
        for list in lists {
            let start = by_provider.len();
            by_provider.extend(list.into_iter().map(|(p, c)| (p, c as f32)));
            by_provider[start..].sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            for &(p, _) in &by_provider[start..] {
                count[p as usize + 1] += 1;
            }
            provider_first.push(by_provider.len());
        }
        for p in 0..places {
            count[p + 1] += count[p];
        }
        let place_first = count.clone();
        let mut by_place = vec![(0u32, 0f32); by_provider.len()];
        for j in 0..provider_first.len() - 1 {
            for &(p, c) in &by_provider[provider_first[j]..provider_first[j + 1]] {
                by_place[count[p as usize]] = (j as u32, c);
                count[p as usize] += 1;
            }
        }
        for p in 0..places {
            by_place[place_first[p]..place_first[p + 1]].sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        }
        ListPairs {
            places,
            place_first,
            by_place,
            provider_first,
            by_provider,
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.by_provider.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_provider.is_empty()
    }

    fn of_place(&self, p: usize) -> &[(u32, f32)] {
        &self.by_place[self.place_first[p]..self.place_first[p + 1]]
    }
}

/// One side's rows, nearest first, with members taken out as they close.
struct ListOpen<'a> {
    first: &'a [usize],
    rows: &'a [(u32, f32)],
    closed: Vec<bool>,
}

impl Open for ListOpen<'_> {
    fn visit(&mut self, from: usize, take: &mut dyn FnMut(u32, f64) -> bool) {
        for &(k, c) in &self.rows[self.first[from]..self.first[from + 1]] {
            if !self.closed[k as usize] && !take(k, f64::from(c)) {
                break;
            }
        }
    }

    fn close(&mut self, member: u32) {
        self.closed[member as usize] = true;
    }
}

impl Pairs for ListPairs {
    fn places(&self) -> usize {
        self.places
    }

    fn providers(&self) -> usize {
        self.provider_first.len() - 1
    }

    fn degree(&self, place: usize) -> u32 {
        self.of_place(place).len() as u32
    }

    fn providers_of(&self, place: usize, out: &mut Vec<u32>) {
        out.clear();
        out.extend(self.of_place(place).iter().map(|e| e.0));
    }

    fn cost(&self, place: usize, provider: usize) -> f64 {
        self.of_place(place)
            .iter()
            .find(|e| e.0 as usize == provider)
            .map_or(f64::INFINITY, |e| f64::from(e.1))
    }

    fn open_providers(&self) -> Box<dyn Open + '_> {
        Box::new(ListOpen {
            first: &self.place_first,
            rows: &self.by_place,
            closed: vec![false; self.providers()],
        })
    }

    fn open_places(&self) -> Box<dyn Open + '_> {
        Box::new(ListOpen {
            first: &self.provider_first,
            rows: &self.by_provider,
            closed: vec![false; self.places],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two places and two providers where nearest first goes wrong: place 0 (need 1) reaches
    /// both providers and is nearest to provider 0; place 1 (need 1) reaches only provider 0.
    /// Each provider takes 1. Nearest first gives place 0 provider 0 and leaves place 1
    /// unserved; one augmentation moves place 0 to provider 1.
    #[test]
    fn augmenting_moves_need_to_free_room() {
        let pairs = ListPairs::new(2, vec![vec![(0, 1.0), (1, 1.0)], vec![(0, 2.0)]]);
        let flow = max_flow(&pairs, &[1, 1], &[1, 1]);
        assert_eq!(flow.served, vec![1, 1]);
        assert_eq!(flow.assigned, vec![1, 1]);
        assert_eq!(flow.assignments[1], vec![(0, 1, 2.0)]);
        assert_eq!(flow.travel(), 3.0);
        // AccessMod's fill depends on the order: provider 0 first takes place 0 (tie at
        // cost 1, first place), and provider 1 finds no one left; provider 1 first takes
        // place 0 and leaves place 1 to provider 0.
        assert_eq!(fill_in_order(&pairs, &[1, 1], &[1, 1], &[0, 1]).total(), 1);
        assert_eq!(fill_in_order(&pairs, &[1, 1], &[1, 1], &[1, 0]).total(), 2);
    }

    /// A chain: place k < 3 reaches provider k at cost 2 and provider k+1 at cost 1; place 3
    /// reaches provider 3; place 4 reaches nothing. Nearest first sends place k to provider
    /// k+1 and leaves place 3 unserved; one path moves all three assignments back.
    #[test]
    fn long_paths_and_unreachable_need() {
        let pairs = ListPairs::new(
            5,
            vec![
                vec![(0, 2.0)],
                vec![(0, 1.0), (1, 2.0)],
                vec![(1, 1.0), (2, 2.0)],
                vec![(2, 1.0), (3, 1.0)],
            ],
        );
        let flow = max_flow(&pairs, &[5, 5, 5, 5, 5], &[5, 5, 5, 5]);
        assert_eq!(flow.served, vec![5, 5, 5, 5, 0]);
        assert_eq!(flow.assigned, vec![5, 5, 5, 5]);
        assert_eq!(flow.travel(), 35.0);
    }
}
