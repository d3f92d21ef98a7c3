// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of concurrent buffered I/O on one ext4 file.
 *
 * Each case runs, on every geometry and on both buffered I/O paths, five
 * kernel threads on one file of at most RACE_FILE_MAX bytes, for a bounded
 * time (concurrency_ms, in rounds of round_ms):
 *
 *  - a writer: buffered writes at random, often unaligned, offsets, and
 *    appends at EOF, of the writer's pattern (ext4_kunit_pattern() with
 *    RACE_SEED_WRITE, a byte that depends on the offset);
 *  - a truncater: truncates down and up, FALLOC_FL_PUNCH_HOLE,
 *    FALLOC_FL_ZERO_RANGE (keeping the size or not) and preallocation;
 *  - an mmap writer: stores of its own pattern (RACE_SEED_STORE) through a
 *    shared writable mapping, from an address space of its own
 *    (ext4_kunit_bg_attach_mm()); a store past EOF faults, and the copy
 *    comes back short, as a process would get SIGBUS;
 *  - writeback: filemap_fdatawrite(), filemap_flush(), ranged writes with
 *    and without waiting, fsync and write_inode_now(), in a loop;
 *  - a reader, which checks every byte it reads against the values below.
 *
 * Rounds alternate delayed allocation and nodelalloc (a remount between
 * rounds changes it), so that each path allocates both ways on a file the
 * other way left behind.
 *
 * The invariant.  The writer, the truncater and the mmap writer log each
 * operation with the range of bytes it set and two ticks of a shared clock,
 * one taken before the operation and one after.  Writes, truncates, punches
 * and zero ranges all run under i_rwsem, so they happen one at a time, each
 * at some moment between its two ticks.  A truncate to x sets every byte
 * from x on to zero (bytes past EOF are zero as far as the file is
 * concerned, so a truncate up sets them too); a punch or zero range sets its
 * range to zero, a write its range to the writer's pattern.  So the final
 * value of a byte is the value of one of the operations over it that no
 * other operation over it started strictly after: one that ended after the
 * last start over that byte.  Stores through the mapping are not ordered
 * with the rest and may fault, so they only ever add their value to those a
 * byte may hold.  A byte that no write, truncate, punch or zero range
 * reached keeps its value from before the round.  This rejects stale data
 * that a truncate or punch should have removed (from the page cache, the
 * tail of a partial block, or a block on disk), zeroes where a later write
 * should be, and bytes of any other offset or origin.
 *
 * The size is checked the same way: a truncate sets it, a write, a zero
 * range or a preallocation without FALLOC_FL_KEEP_SIZE grows it to the end
 * of its range; the final size is the size one of the operations that ended
 * after the last truncate began left, and not below the end of a growing
 * operation that began after every truncate ended.
 *
 * After each round, with every thread stopped: the file in the page cache
 * must hold the invariant; after fsync, i_disksize must be i_size; after
 * syncing the filesystem, the delayed allocation counters must be back at
 * zero (s_dirtyclusters_counter, i_reserved_data_blocks) and the clusters
 * the file holds must be exactly the free clusters it took; after a remount
 * the file must read back byte for byte as it was in the page cache.  The
 * next round starts from that content.
 *
 * The buffer_head path is the reference.  It has a race of its own, seen
 * on 7.3.4 without this series as with it, that the iomap path does not
 * show: with blocks smaller than a page, a store through the mapping past
 * EOF (inside the EOF page) stays in the page cache when the file grows
 * over it, and reads as zeros after a remount.  Such bytes, the mapping's
 * data in the page cache and zeros after the remount, are let through on
 * that path and counted.
 *
 * UML runs one task at a time, with a 100 Hz tick: the threads take turns,
 * an operation each, handing the turn on as an operation starts, so that
 * the next thread preempts it where it can sleep (racing()).  The counts
 * each case prints say how many logged operations another one overlapped.
 *
 * Every wait is bounded: a thread still running RACE_GRACE_MS after its
 * round ended fails the case.  Threads hold a reference to the file and to
 * the state they share with the case, so that one that overstays cannot
 * touch freed memory.
 */
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/percpu_counter.h>
#include <linux/prandom.h>
#include <linux/refcount.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/writeback.h>

#include "fixture.h"

static unsigned int concurrency_ms = 1000;
module_param(concurrency_ms, uint, 0644);
MODULE_PARM_DESC(concurrency_ms,
		 "How long each ext4_concurrency case runs, in ms (longer for soaks)");

static unsigned int round_ms = 250;
module_param(round_ms, uint, 0644);
MODULE_PARM_DESC(round_ms,
		 "How long the threads of ext4_concurrency run between two checks, in ms");

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

/* Small, so that the threads keep meeting in the same folios. */
#define RACE_FILE_MAX	SZ_64K
#define RACE_IO_MAX	(3 * PAGE_SIZE)
/*
 * Operations a thread may log in a round: at least RACE_LOG_MIN, and
 * RACE_LOG_PER_MS for each ms of a round, several times what the threads
 * log under UML.  A thread whose log fills stops early, and says so.
 */
#define RACE_LOG_MIN	65536U
#define RACE_LOG_PER_MS	256
/* How long a thread may take to stop once its round is over. */
#define RACE_GRACE_MS	10000
#define RACE_SEED_WRITE	0x21
#define RACE_SEED_STORE	0x9c
#define RACE_COUNTS	6

/* Values an operation leaves in the bytes it sets. */
enum race_value {
	RACE_ZERO,
	RACE_WRITTEN,
	RACE_STORED,
	RACE_NR_VALUES,
	RACE_NO_VALUE = RACE_NR_VALUES,
};

enum race_op_type {
	OP_WRITE,
	OP_TRUNCATE,
	OP_PUNCH,
	OP_ZERO,		/* zero range, growing the file */
	OP_ZERO_KEEP,		/* zero range, FALLOC_FL_KEEP_SIZE */
	OP_ALLOC,		/* preallocation, growing the file */
	OP_STORE,		/* store through the mapping */
};

static const char *const op_names[] = {
	[OP_WRITE] = "write",
	[OP_TRUNCATE] = "truncate",
	[OP_PUNCH] = "punch",
	[OP_ZERO] = "zero range",
	[OP_ZERO_KEEP] = "zero range (keep size)",
	[OP_ALLOC] = "preallocation",
	[OP_STORE] = "store",
};

/* One logged operation: it set bytes [lo, hi) between ticks start and end. */
struct race_op {
	u32 start;
	u32 end;
	u32 lo;
	u32 hi;
	u32 size;		/* the size it set (truncate) or grew the file to */
	u8 type;
};

static enum race_value op_value(const struct race_op *op)
{
	switch (op->type) {
	case OP_WRITE:
		return RACE_WRITTEN;
	case OP_STORE:
		return RACE_STORED;
	case OP_ALLOC:
		return RACE_NO_VALUE;
	default:
		return RACE_ZERO;
	}
}

/* Ordered by i_rwsem with the other strong operations. */
static bool op_strong(const struct race_op *op)
{
	return op->type != OP_STORE && op->type != OP_ALLOC;
}

static bool op_grows(const struct race_op *op)
{
	return op->type == OP_WRITE || op->type == OP_ZERO ||
	       op->type == OP_ALLOC;
}

struct race;

struct racer {
	struct race *race;
	const struct racer_type *type;
	struct file *file;
	struct rnd_state rnd;
	struct race_op *log;
	unsigned int nr_ops;
	bool log_full;
	bool done;
	unsigned int full_rounds;
	/* Logged operations during which another one began or ended. */
	unsigned long overlaps;
	u8 *buf;
	unsigned long count[RACE_COUNTS];
	unsigned long total[RACE_COUNTS];
	char err[160];
};

struct racer_type {
	const char *name;
	int (*run)(struct racer *r);
	bool logs;		/* logs what it does to the file */
	const char *const what[RACE_COUNTS];
};

enum { WRITER, TRUNCATER, STORER, WRITEBACK, READER, NR_RACERS };

/* What the case and its threads share; it lives until the last one puts it. */
struct race {
	refcount_t refs;
	unsigned int blocksize;
	unsigned int log_max;
	/* An upstream race of the buffer_head path, let through and counted. */
	bool keep_eof_stores;
	unsigned long kept_eof_stores;
	unsigned long deadline;
	atomic_t clock;
	/* Whose turn it is to start an operation (racing()). */
	atomic_t turn;
	wait_queue_head_t turn_wait;
	/* The file at the start of the round; zero past base_size. */
	u8 *base;
	u32 base_size;
	struct racer racers[NR_RACERS];
};

static void race_put(struct race *race)
{
	unsigned int i;

	if (!refcount_dec_and_test(&race->refs))
		return;
	for (i = 0; i < NR_RACERS; i++) {
		kvfree(race->racers[i].log);
		kfree(race->racers[i].buf);
	}
	kvfree(race->base);
	kfree(race);
}

KUNIT_DEFINE_ACTION_WRAPPER(race_put_action, race_put, struct race *);

static u32 race_tick(struct race *race)
{
	return atomic_inc_return(&race->clock);
}

/* The thread after @me that still runs, or @me when it is the last. */
static int next_racer(struct race *race, int me)
{
	int i, next;

	for (i = 1; i < NR_RACERS; i++) {
		next = (me + i) % NR_RACERS;
		if (!READ_ONCE(race->racers[next].done))
			return next;
	}
	return me;
}

/* Hand the turn on, if @r has it. */
static void pass_turn(struct racer *r)
{
	struct race *race = r->race;
	int me = r - race->racers;

	atomic_cmpxchg(&race->turn, me, next_racer(race, me));
	wake_up_all(&race->turn_wait);
}

/*
 * Whether @r goes on with another operation, which it starts on its turn.
 * UML runs one task at a time and its tick is 100 Hz: left to the
 * scheduler, a thread would run for 10 ms, hundreds of operations, before
 * the next one got the CPU, and the operations of different threads would
 * hardly meet.  So the threads take turns, an operation each, and a thread
 * hands the turn on as its operation starts: the next one, woken, preempts
 * it at its next scheduling point, inside the operation.  One that has
 * waited a tick for its turn goes anyway.
 */
static bool racing(struct racer *r)
{
	struct race *race = r->race;
	int me = r - race->racers;
	bool go = time_before(jiffies, race->deadline) && !r->err[0] &&
		  !r->log_full;

	if (go)
		wait_event_timeout(race->turn_wait,
				   atomic_read(&race->turn) == me, 1);
	else
		WRITE_ONCE(r->done, true);
	pass_turn(r);
	return go;
}

static __printf(2, 3) int racer_fail(struct racer *r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, args);
	va_end(args);
	return -EIO;
}

static u32 rnd_below(struct racer *r, u32 n)
{
	return n ? prandom_u32_state(&r->rnd) % n : 0;
}

/* An offset below @limit: anywhere, at a block boundary, or next to one. */
static u32 pick_pos(struct racer *r, u32 limit)
{
	u32 bs = r->race->blocksize;
	u32 pos;

	switch (rnd_below(r, 3)) {
	case 0:
		return rnd_below(r, limit);
	case 1:
		return rnd_below(r, DIV_ROUND_UP(limit, bs)) * bs;
	default:
		pos = rnd_below(r, DIV_ROUND_UP(limit, bs)) * bs;
		pos = rnd_below(r, 2) || !pos ? pos + 1 : pos - 1;
		return min(pos, limit - 1);
	}
}

/* A length for an operation at @pos: a few bytes to a few folios. */
static u32 pick_len(struct racer *r, u32 pos)
{
	u32 bs = r->race->blocksize;
	u32 len;

	switch (rnd_below(r, 4)) {
	case 0:
		len = 1 + rnd_below(r, 64);
		break;
	case 1:
		len = 1 + rnd_below(r, bs);
		break;
	case 2:
		len = bs * (1 + rnd_below(r, 4));
		break;
	default:
		len = 1 + rnd_below(r, RACE_IO_MAX);
		break;
	}
	return min(len, RACE_FILE_MAX - pos);
}

static struct race_op *op_begin(struct racer *r, enum race_op_type type)
{
	struct race_op *op = &r->log[r->nr_ops];

	op->type = type;
	op->start = race_tick(r->race);
	return op;
}

static void op_end(struct racer *r, struct race_op *op, u32 lo, u32 hi,
		   u32 size)
{
	op->end = race_tick(r->race);
	op->lo = lo;
	op->hi = hi;
	op->size = size;
	if (++r->nr_ops == r->race->log_max)
		r->log_full = true;
}

static loff_t race_isize(struct racer *r)
{
	return i_size_read(file_inode(r->file));
}

/* Buffered writes of the writer's pattern, and appends at EOF. */
static int run_writer(struct racer *r)
{
	while (racing(r)) {
		loff_t size = race_isize(r);
		u32 pos = rnd_below(r, 4) || size >= RACE_FILE_MAX ?
			  pick_pos(r, RACE_FILE_MAX) : size;
		u32 len = min_t(u32, pick_len(r, pos), RACE_IO_MAX);
		struct race_op *op;
		loff_t at = pos;
		ssize_t ret;

		ext4_kunit_fill(r->buf, RACE_SEED_WRITE, pos, len);
		op = op_begin(r, OP_WRITE);
		ret = kernel_write(r->file, r->buf, len, &at);
		if (ret <= 0)
			return racer_fail(r, "write of %u bytes at %u: %zd",
					  len, pos, ret);
		op_end(r, op, pos, pos + ret, pos + ret);
		r->count[ret < len]++;
	}
	return 0;
}

/* Truncate down and up, punch, zero and preallocate ranges. */
static int run_truncater(struct racer *r)
{
	static const int modes[] = {
		[OP_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		[OP_ZERO] = FALLOC_FL_ZERO_RANGE,
		[OP_ZERO_KEEP] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		[OP_ALLOC] = 0,
	};

	while (racing(r)) {
		u32 type = rnd_below(r, OP_ALLOC + 2);
		u32 pos = pick_pos(r, RACE_FILE_MAX);
		u32 len = pick_len(r, pos);
		struct race_op *op;
		int err;

		if (type == OP_WRITE || type == OP_TRUNCATE) {
			/* Truncates, twice as often as the others. */
			bool up;

			pos = pick_pos(r, RACE_FILE_MAX + 1);
			up = pos > race_isize(r);
			op = op_begin(r, OP_TRUNCATE);
			err = vfs_truncate(&r->file->f_path, pos);
			if (err)
				return racer_fail(r, "truncate to %u: %d", pos,
						  err);
			op_end(r, op, pos, RACE_FILE_MAX, pos);
			r->count[up]++;
		} else if (type > OP_ALLOC) {
			/* Preallocation that keeps the size changes nothing. */
			err = vfs_fallocate(r->file, FALLOC_FL_KEEP_SIZE, pos,
					    len);
			if (err)
				return racer_fail(r, "fallocate(KEEP_SIZE, %u, %u): %d",
						  pos, len, err);
			r->count[5]++;
		} else {
			op = op_begin(r, type);
			err = vfs_fallocate(r->file, modes[type], pos, len);
			if (err)
				return racer_fail(r, "fallocate(%#x, %u, %u): %d",
						  modes[type], pos, len, err);
			op_end(r, op, pos, pos + len, pos + len);
			r->count[type == OP_PUNCH ? 2 : type == OP_ALLOC ? 4 : 3]++;
		}
	}
	return 0;
}

/* Whether @v is a value any operation of the round could leave at @pos. */
static bool byte_possible(const struct race *race, u32 pos, u8 v)
{
	return !v || v == ext4_kunit_pattern(RACE_SEED_WRITE, pos) ||
	       v == ext4_kunit_pattern(RACE_SEED_STORE, pos) ||
	       v == race->base[pos];
}

/* Whether the @n bytes at @buf are @seed's pattern from @pos on. */
static bool is_pattern(const u8 *buf, size_t n, u8 seed, u32 pos)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i] != ext4_kunit_pattern(seed, pos + i))
			return false;
	return true;
}

/*
 * Where the @n bytes at @pos that no operation left there come from, for a
 * message: data of their own offset that an operation should have
 * replaced, or stale data of another offset, in the same place of its
 * sector (the pattern repeats every 51 sectors: the lowest such offset).
 * Returns whose data it is, with its offset in *@from; NULL when none
 * matches, or too few bytes to tell.
 */
static const char *origin(const u8 *buf, size_t n, u32 pos, u32 *from)
{
	static const struct {
		u8 seed;
		const char *name;
	} seeds[] = {
		{ RACE_SEED_WRITE, "the writer's data" },
		{ RACE_SEED_STORE, "the mapping's data" },
	};
	unsigned int s;
	u32 p;

	n = min_t(size_t, n, 16);
	if (n < 4)
		return NULL;
	for (s = 0; s < ARRAY_SIZE(seeds); s++) {
		if (is_pattern(buf, n, seeds[s].seed, pos)) {
			*from = pos;
			return seeds[s].name;
		}
	}
	for (s = 0; s < ARRAY_SIZE(seeds); s++) {
		for (p = pos % SECTOR_SIZE; p + n <= RACE_FILE_MAX;
		     p += SECTOR_SIZE) {
			if (is_pattern(buf, n, seeds[s].seed, p)) {
				*from = p;
				return seeds[s].name;
			}
		}
	}
	return NULL;
}

/* Fail @r unless each of the @len bytes read at @pos is a possible value. */
static int check_read(struct racer *r, u32 pos, size_t len, const char *how)
{
	const char *what;
	u32 from = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (byte_possible(r->race, pos + i, r->buf[i]))
			continue;
		what = origin(r->buf + i, len - i, pos + i, &from);
		return racer_fail(r,
				  "byte %zu %s as %#x: not 0, %#x (writer), %#x (mapping) or %#x (before the round); %s %u",
				  pos + i, how, r->buf[i],
				  ext4_kunit_pattern(RACE_SEED_WRITE, pos + i),
				  ext4_kunit_pattern(RACE_SEED_STORE, pos + i),
				  r->race->base[pos + i],
				  what ? what : "unknown data, at offset", from);
	}
	return 0;
}

/*
 * The mmap writer's loop, with the file mapped at @addr: mostly stores,
 * some loads, and some zaps of the page table entries so that the next
 * access faults the folio in again, and a store calls ->page_mkwrite.
 */
static int store_loop(struct racer *r, unsigned long addr)
{
	while (racing(r)) {
		u32 pos = pick_pos(r, RACE_FILE_MAX);
		u32 len = min_t(u32, pick_len(r, pos), RACE_IO_MAX);
		void __user *at = (void __user *)(addr + pos);
		struct race_op *op;
		unsigned long left;
		int err;

		switch (rnd_below(r, 8)) {
		case 0:
			pos &= PAGE_MASK;
			len = min_t(u32, PAGE_ALIGN(len), RACE_FILE_MAX - pos);
			err = do_madvise(current->mm, addr + pos, len,
					 MADV_DONTNEED);
			if (err)
				return racer_fail(r, "MADV_DONTNEED: %d", err);
			r->count[2]++;
			break;
		case 1:
			left = copy_from_user(r->buf, at, len);
			err = check_read(r, pos, len - left, "loaded");
			if (err)
				return err;
			r->count[3]++;
			break;
		default:
			ext4_kunit_fill(r->buf, RACE_SEED_STORE, pos, len);
			op = op_begin(r, OP_STORE);
			left = copy_to_user(at, r->buf, len);
			op_end(r, op, pos, pos + len, 0);
			r->count[left != 0]++;
			break;
		}
	}
	return 0;
}

/*
 * Stores through a shared writable mapping of the whole file, from an
 * address space of this thread's own: the mapping is gone before the
 * thread returns.
 */
static int run_storer(struct racer *r)
{
	struct mm_struct *mm = ext4_kunit_bg_attach_mm();
	unsigned long addr;
	int err;

	if (!mm)
		return racer_fail(r, "no address space");
	addr = vm_mmap(r->file, 0, RACE_FILE_MAX, PROT_READ | PROT_WRITE,
		       MAP_SHARED, 0);
	if (IS_ERR_VALUE(addr)) {
		ext4_kunit_bg_detach_mm(mm);
		return racer_fail(r, "vm_mmap() of the file: %ld", (long)addr);
	}
	err = store_loop(r, addr);
	vm_munmap(addr, RACE_FILE_MAX);
	ext4_kunit_bg_detach_mm(mm);
	return err;
}

/* Forced writeback of the whole file or of a range, with and without waiting. */
static int run_writeback(struct racer *r)
{
	struct address_space *mapping = r->file->f_mapping;

	while (racing(r)) {
		u32 kind = rnd_below(r, RACE_COUNTS);
		loff_t start = pick_pos(r, RACE_FILE_MAX);
		loff_t end = start + pick_len(r, start) - 1;
		int err;

		switch (kind) {
		case 0:
			err = filemap_fdatawrite(mapping);
			break;
		case 1:
			err = filemap_flush(mapping);
			break;
		case 2:
			err = filemap_fdatawrite_range(mapping, start, end);
			break;
		case 3:
			err = filemap_write_and_wait_range(mapping, start, end);
			break;
		case 4:
			err = vfs_fsync_range(r->file, start, end,
					      rnd_below(r, 2));
			break;
		default:
			err = write_inode_now(file_inode(r->file), 1);
			break;
		}
		if (err)
			return racer_fail(r, "%s: %d", r->type->what[kind], err);
		r->count[kind]++;
	}
	return 0;
}

/* Reads of random ranges, each byte of which must be a possible value. */
static int run_reader(struct racer *r)
{
	while (racing(r)) {
		u32 pos = pick_pos(r, RACE_FILE_MAX);
		u32 len = min_t(u32, pick_len(r, pos), RACE_IO_MAX);
		loff_t at = pos;
		ssize_t ret;
		int err;

		ret = kernel_read(r->file, r->buf, len, &at);
		if (ret < 0)
			return racer_fail(r, "read of %u bytes at %u: %zd",
					  len, pos, ret);
		err = check_read(r, pos, ret, "read");
		if (err)
			return err;
		r->count[0]++;
		r->count[1] += ret;
	}
	return 0;
}

static const struct racer_type racer_types[NR_RACERS] = {
	[WRITER] = { "writer", run_writer, true,
		     { "writes", "short writes" } },
	[TRUNCATER] = { "truncater", run_truncater, true,
			{ "truncates down", "truncates up", "punches",
			  "zero ranges", "preallocations",
			  "preallocations keeping the size" } },
	[STORER] = { "mmap writer", run_storer, true,
		     { "stores", "stores that faulted", "zaps", "loads" } },
	[WRITEBACK] = { "writeback", run_writeback, false,
			{ "fdatawrites", "flushes", "range writes",
			  "range writes and waits", "fsyncs",
			  "write_inode_nows" } },
	[READER] = { "reader", run_reader, false,
		     { "reads", "bytes checked" } },
};

static int racer_thread(void *arg)
{
	struct racer *r = arg;
	struct race *race = r->race;
	int err = r->type->run(r);

	/* It may have stopped on an error, outside racing(). */
	WRITE_ONCE(r->done, true);
	pass_turn(r);
	fput(r->file);
	race_put(race);
	return err;
}

static struct race *race_alloc(struct kunit *test, unsigned int blocksize)
{
	struct race *race = kzalloc_obj(*race);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, race);
	refcount_set(&race->refs, 1);
	init_waitqueue_head(&race->turn_wait);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, race_put_action,
							race), 0);
	race->blocksize = blocksize;
	race->log_max = max(RACE_LOG_MIN, round_ms * RACE_LOG_PER_MS);
	race->base = kvzalloc(RACE_FILE_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race->base);
	for (i = 0; i < NR_RACERS; i++) {
		struct racer *r = &race->racers[i];

		r->race = race;
		r->type = &racer_types[i];
		r->buf = kmalloc(RACE_IO_MAX, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, r->buf);
		if (!r->type->logs)
			continue;
		r->log = kvmalloc_array(race->log_max, sizeof(*r->log),
					GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, r->log);
	}
	return race;
}

/*
 * Run the threads on @file for round_ms, and wait for them to stop.  Tells
 * whether every operation they tried did what it should.
 */
static bool race_round(struct kunit *test, struct race *race,
		       struct file *file, unsigned int round)
{
	const struct ext4_kunit_config *cfg = test->param_value;
	struct ext4_kunit_bg *bg[NR_RACERS];
	bool ok = true;
	unsigned int i;

	atomic_set(&race->clock, 0);
	atomic_set(&race->turn, 0);
	race->deadline = jiffies + msecs_to_jiffies(round_ms);
	for (i = 0; i < NR_RACERS; i++) {
		struct racer *r = &race->racers[i];

		r->nr_ops = 0;
		r->log_full = false;
		r->done = false;
		memset(r->count, 0, sizeof(r->count));
		prandom_seed_state(&r->rnd, ((u64)(cfg - ext4_kunit_configs) << 32) |
				   (round << 8) | i);
		r->file = get_file(file);
		refcount_inc(&race->refs);
		bg[i] = ext4_kunit_bg_start(test, racer_thread, r);
	}
	for (i = 0; i < NR_RACERS; i++) {
		struct racer *r = &race->racers[i];
		long left = (long)(race->deadline - jiffies);
		unsigned int ms = jiffies_to_msecs(max(left, 0L)) + RACE_GRACE_MS;
		unsigned int c;
		int ret;

		KUNIT_ASSERT_TRUE_MSG(test, ext4_kunit_bg_done(bg[i], ms, &ret),
				      "round %u: the %s is still running %u ms after the round ended",
				      round, r->type->name, RACE_GRACE_MS);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "round %u: the %s failed: %s",
				    round, r->type->name, r->err);
		ok &= !ret;
		for (c = 0; c < RACE_COUNTS; c++)
			r->total[c] += r->count[c];
		r->full_rounds += r->log_full;
		for (c = 0; c < r->nr_ops; c++)
			r->overlaps += r->log[c].end - r->log[c].start > 1;
	}
	return ok;
}

/*
 * The model of a round: for each byte, the start tick of the last strong
 * operation to begin over it (0: none), and for each value the latest end
 * tick of an operation that leaves it there (0: none).
 */
struct race_model {
	u32 *last_start;
	u32 *last_end[RACE_NR_VALUES];
	u32 *next;
	const struct race_op **ops;
	unsigned int nr_ops;
};

KUNIT_DEFINE_ACTION_WRAPPER(kvfree_action, kvfree, const void *);

static void *alloc_array(struct kunit *test, size_t n, size_t size)
{
	void *p = kvmalloc_array(n, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kvfree_action, p),
			0);
	return p;
}

static void model_alloc(struct kunit *test, struct race_model *m,
			const struct race *race)
{
	unsigned int v;

	m->last_start = alloc_array(test, RACE_FILE_MAX, sizeof(u32));
	for (v = 0; v < RACE_NR_VALUES; v++)
		m->last_end[v] = alloc_array(test, RACE_FILE_MAX, sizeof(u32));
	m->next = alloc_array(test, RACE_FILE_MAX + 1, sizeof(u32));
	m->ops = alloc_array(test, NR_RACERS * race->log_max, sizeof(*m->ops));
}

static int cmp_start_desc(const void *a, const void *b)
{
	const struct race_op *x = *(const struct race_op **)a;
	const struct race_op *y = *(const struct race_op **)b;

	return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;
}

static int cmp_end_desc(const void *a, const void *b)
{
	const struct race_op *x = *(const struct race_op **)a;
	const struct race_op *y = *(const struct race_op **)b;

	return x->end < y->end ? 1 : x->end > y->end ? -1 : 0;
}

/* The first byte from @pos on that no operation has painted yet. */
static u32 unpainted(u32 *next, u32 pos)
{
	u32 root = pos, up;

	while (next[root] != root)
		root = next[root];
	while (next[pos] != root) {
		up = next[pos];
		next[pos] = root;
		pos = up;
	}
	return root;
}

static void paint_start(struct race_model *m)
{
	u32 pos;

	for (pos = 0; pos <= RACE_FILE_MAX; pos++)
		m->next[pos] = pos;
}

/*
 * Give each byte of [lo, hi) not painted yet the value @tick: painting the
 * operations latest first leaves each byte the latest tick over it, in time
 * about linear in the file size and the number of operations.
 */
static void paint(struct race_model *m, u32 *map, u32 lo, u32 hi, u32 tick)
{
	u32 pos;

	for (pos = unpainted(m->next, lo); pos < hi;
	     pos = unpainted(m->next, pos + 1)) {
		map[pos] = tick;
		m->next[pos] = pos + 1;
	}
}

static void model_build(struct race_model *m, const struct race *race)
{
	unsigned int i, n;
	u32 v;

	m->nr_ops = 0;
	for (i = 0; i < NR_RACERS; i++)
		for (n = 0; n < race->racers[i].nr_ops; n++)
			m->ops[m->nr_ops++] = &race->racers[i].log[n];

	memset(m->last_start, 0, RACE_FILE_MAX * sizeof(u32));
	sort(m->ops, m->nr_ops, sizeof(*m->ops), cmp_start_desc, NULL);
	paint_start(m);
	for (n = 0; n < m->nr_ops; n++)
		if (op_strong(m->ops[n]))
			paint(m, m->last_start, m->ops[n]->lo, m->ops[n]->hi,
			      m->ops[n]->start);

	sort(m->ops, m->nr_ops, sizeof(*m->ops), cmp_end_desc, NULL);
	for (v = 0; v < RACE_NR_VALUES; v++) {
		memset(m->last_end[v], 0, RACE_FILE_MAX * sizeof(u32));
		paint_start(m);
		for (n = 0; n < m->nr_ops; n++)
			if (op_value(m->ops[n]) == v)
				paint(m, m->last_end[v], m->ops[n]->lo,
				      m->ops[n]->hi, m->ops[n]->end);
	}
}

static u8 value_at(enum race_value v, u32 pos)
{
	switch (v) {
	case RACE_WRITTEN:
		return ext4_kunit_pattern(RACE_SEED_WRITE, pos);
	case RACE_STORED:
		return ext4_kunit_pattern(RACE_SEED_STORE, pos);
	default:
		return 0;
	}
}

static bool byte_allowed(const struct race_model *m, const struct race *race,
			 u32 pos, u8 byte)
{
	u32 last = m->last_start[pos];
	enum race_value v;

	if (!last && byte == race->base[pos])
		return true;
	for (v = 0; v < RACE_NR_VALUES; v++)
		if (m->last_end[v][pos] > last && byte == value_at(v, pos))
			return true;
	return false;
}

/* The logged operation that began (@by_end false) or ended at @tick. */
static const struct race_op *op_at(const struct race_model *m, u32 tick,
				   bool by_end)
{
	unsigned int n;

	for (n = 0; n < m->nr_ops; n++)
		if ((by_end ? m->ops[n]->end : m->ops[n]->start) == tick)
			return m->ops[n];
	return NULL;
}

static int describe_op(char *buf, size_t len, const struct race_op *op)
{
	if (!op)
		return scnprintf(buf, len, "none");
	return scnprintf(buf, len, "%s of [%u, %u) at ticks %u-%u",
			 op_names[op->type], op->lo, op->hi, op->start,
			 op->end);
}

/* Say which values byte @pos may hold, and which operations leave them. */
static void report_byte(struct kunit *test, const struct race_model *m,
			const struct race *race, const char *when, u32 pos,
			u32 nr, const u8 *bytes)
{
	static const char *const names[] = {
		[RACE_ZERO] = "zero", [RACE_WRITTEN] = "written",
		[RACE_STORED] = "stored",
	};
	u32 last = m->last_start[pos];
	char *msg = kunit_kzalloc(test, 512, GFP_KERNEL);
	enum race_value v;
	const char *what;
	u32 from = 0;
	int n = 0;

	if (!msg)
		return;
	what = origin(bytes, nr, pos, &from);
	if (what)
		n += scnprintf(msg + n, 512 - n, "%s of offset %u; ", what,
			       from);
	n += scnprintf(msg + n, 512 - n, "last begun over it: ");
	n += describe_op(msg + n, 512 - n, op_at(m, last, false));
	if (!last)
		n += scnprintf(msg + n, 512 - n, "; before the round: %#x",
			       race->base[pos]);
	for (v = 0; v < RACE_NR_VALUES; v++) {
		u32 end = m->last_end[v][pos];

		if (!end)
			continue;
		n += scnprintf(msg + n, 512 - n, "; %s %#x%s by ", names[v],
			       value_at(v, pos), end > last ? "" : " (overtaken)");
		n += describe_op(msg + n, 512 - n, op_at(m, end, true));
	}
	KUNIT_FAIL(test,
		   "%s: %u bytes from %u on hold values no operation left there: byte %u is %#x; %s",
		   when, nr, pos, pos, bytes[0], msg);
	kunit_kfree(test, msg);
}

/* Check every byte of @buf (the file, @size bytes) against the model. */
static bool check_content(struct kunit *test, const struct race_model *m,
			  const struct race *race, const u8 *buf, u32 size,
			  const char *when)
{
	u32 pos, run, bad = 0, runs = 0;

	for (pos = 0; pos < size; pos += run) {
		run = 1;
		if (byte_allowed(m, race, pos, buf[pos]))
			continue;
		while (pos + run < size &&
		       !byte_allowed(m, race, pos + run, buf[pos + run]))
			run++;
		if (runs++ < 4)
			report_byte(test, m, race, when, pos, run, buf + pos);
		bad += run;
	}
	if (runs > 4)
		KUNIT_FAIL(test, "%s: %u wrong bytes in %u ranges in all",
			   when, bad, runs);
	return !bad;
}

/*
 * A truncate sets the size; a growing operation makes it at least the end
 * of its range.  The final size is one that an operation ending after the
 * last truncate began left, and no less than any growing operation that
 * began after every truncate ended asks for.
 */
static bool check_size(struct kunit *test, const struct race_model *m,
		       const struct race *race, u32 size, const char *when)
{
	u32 last_start = 0, last_end = 0, floor, ceiling = 0;
	bool truncated = false, allowed;
	unsigned int n;

	for (n = 0; n < m->nr_ops; n++) {
		const struct race_op *op = m->ops[n];

		if (op->type != OP_TRUNCATE)
			continue;
		truncated = true;
		last_start = max(last_start, op->start);
		last_end = max(last_end, op->end);
	}
	allowed = !truncated && size == race->base_size;
	floor = truncated ? 0 : race->base_size;
	for (n = 0; n < m->nr_ops; n++) {
		const struct race_op *op = m->ops[n];

		if (op->type == OP_TRUNCATE || op_grows(op)) {
			if (op->end > last_start && op->size == size)
				allowed = true;
			if (op->end > last_start)
				ceiling = max(ceiling, op->size);
		}
		if (op_grows(op) && op->start > last_end)
			floor = max(floor, op->size);
	}
	KUNIT_EXPECT_TRUE_MSG(test, allowed && size >= floor,
			      "%s: i_size %u is not one the operations leave (at least %u, one of them at most %u; %s)",
			      when, size, floor, ceiling,
			      truncated ? "truncated" : "never truncated");
	return allowed && size >= floor;
}

/* Read the whole file into @buf, zero past its size, and return the size. */
static u32 read_file(struct ext4_kunit_fs *fs, struct file *file, u8 *buf)
{
	loff_t size = i_size_read(file_inode(file));
	u32 done = 0, n;

	KUNIT_ASSERT_LE_MSG(fs->test, size, (loff_t)RACE_FILE_MAX,
			    "the file grew past the %u bytes of the threads",
			    RACE_FILE_MAX);
	memset(buf, 0, RACE_FILE_MAX);
	while (done < size) {
		n = ext4_kunit_read(fs, file, done, buf + done, size - done);
		KUNIT_ASSERT_GT_MSG(fs->test, n, 0U, "read at %u of %lld bytes",
				    done, size);
		done += n;
	}
	return size;
}

/* Commit everything: no cluster may be left reserved for delayed allocation. */
static void check_reserved(struct ext4_kunit_fs *fs, struct file *file,
			   const char *when)
{
	struct ext4_sb_info *sbi = EXT4_SB(fs->mnt->mnt_sb);

	ext4_kunit_sync_fs(fs);
	KUNIT_EXPECT_EQ_MSG(fs->test,
			    percpu_counter_sum(&sbi->s_dirtyclusters_counter),
			    0LL, "%s: dirty (reserved) clusters after sync", when);
	KUNIT_EXPECT_EQ_MSG(fs->test,
			    EXT4_I(file_inode(file))->i_reserved_data_blocks,
			    0U, "%s: clusters the inode holds reserved after sync",
			    when);
}

/*
 * After a remount (no preallocation left in memory), the clusters taken
 * from the free count since the file was created are those it holds.
 */
static void check_free(struct ext4_kunit_fs *fs, struct file *file,
		       s64 free_before, const char *when)
{
	struct super_block *sb = fs->mnt->mnt_sb;
	struct inode *inode = file_inode(file);
	s64 held = (s64)(inode->i_blocks << SECTOR_SHIFT) /
		   EXT4_CLUSTER_SIZE(sb);

	KUNIT_EXPECT_EQ_MSG(fs->test, free_before -
			    percpu_counter_sum(&EXT4_SB(sb)->s_freeclusters_counter),
			    held,
			    "%s: clusters taken from the free count, for %llu sectors of i_blocks",
			    when, (u64)inode->i_blocks);
}

/*
 * On the buffer_head path, with blocks smaller than a page, a store through
 * the mapping past EOF but inside the EOF page stays in the page cache when
 * the file grows over it: only the rest of the old EOF block is zeroed, and
 * writeback wrote the block past EOF as zeros, if at all.  The store then
 * reads back from the page cache, and zeros after the remount.
 */
static bool eof_store_kept(struct race *race, u32 pos, u8 cached, u8 disk)
{
	if (!race->keep_eof_stores || disk ||
	    cached != ext4_kunit_pattern(RACE_SEED_STORE, pos))
		return false;
	race->kept_eof_stores++;
	return true;
}

/* The file after the remount: byte for byte what was in the page cache. */
static bool check_same(struct kunit *test, struct race *race,
		       const u8 *cache, u32 cache_size, const u8 *disk,
		       u32 disk_size, const char *when)
{
	u32 pos, n, end = min(cache_size, disk_size);

	KUNIT_EXPECT_EQ_MSG(test, disk_size, cache_size, "%s: i_size", when);
	for (pos = 0; pos < end; pos++) {
		if (cache[pos] == disk[pos] ||
		    eof_store_kept(race, pos, cache[pos], disk[pos]))
			continue;
		for (n = 1; pos + n < end && cache[pos + n] != disk[pos + n]; n++)
			;
		KUNIT_FAIL(test,
			   "%s: %u bytes from %u on differ: byte %u is %#x, %#x in the page cache before (the writer's %#x, the mapping's %#x)",
			   when, n, pos, pos, disk[pos], cache[pos],
			   ext4_kunit_pattern(RACE_SEED_WRITE, pos),
			   ext4_kunit_pattern(RACE_SEED_STORE, pos));
		return false;
	}
	return disk_size == cache_size;
}

static void report_counts(struct kunit *test, const struct race *race,
			  unsigned int rounds, s64 ms)
{
	char *line = kunit_kzalloc(test, 256, GFP_KERNEL);
	unsigned int i, c;

	if (!line)
		return;
	kunit_info(test, "%u rounds in %lld ms\n", rounds, ms);
	if (race->kept_eof_stores)
		kunit_info(test,
			   "%lu bytes stored through the mapping read back from the page cache only (buffer_head path)\n",
			   race->kept_eof_stores);
	for (i = 0; i < NR_RACERS; i++) {
		const struct racer *r = &race->racers[i];
		int n = 0;

		for (c = 0; c < RACE_COUNTS && r->type->what[c]; c++)
			n += scnprintf(line + n, 256 - n, "%s%lu %s",
				       c ? ", " : "", r->total[c],
				       r->type->what[c]);
		if (r->type->logs)
			n += scnprintf(line + n, 256 - n,
				       "; %lu overlapped another logged one",
				       r->overlaps);
		if (r->full_rounds)
			n += scnprintf(line + n, 256 - n,
				       "; stopped early with a full log in %u rounds",
				       r->full_rounds);
		kunit_info(test, "%s: %s\n", r->type->name, line);
	}
	kunit_kfree(test, line);
}

/*
 * Rounds of all five threads on one file, checked after each round in the
 * page cache and after a remount (see the top of the file).
 */
static void race_one_file(struct kunit *test)
{
	static const char *const opts[] = { NULL, "nodelalloc" };
	const struct ext4_kunit_config *cfg = test->param_value;
	unsigned int rounds = max(1U, concurrency_ms / max(round_ms, 1U));
	struct ext4_kunit_fs *fs;
	struct race_model model;
	struct race *race;
	struct file *file;
	u8 *cache, *disk;
	u32 size, disk_size;
	unsigned int round;
	char when[64];
	ktime_t begin;
	s64 free;

	cache = alloc_array(test, RACE_FILE_MAX, 1);
	disk = alloc_array(test, RACE_FILE_MAX, 1);
	race = race_alloc(test, cfg->geo->blocksize);
	race->keep_eof_stores = cfg->path == EXT4_KUNIT_BH &&
				cfg->geo->blocksize < PAGE_SIZE;
	model_alloc(test, &model, race);
	fs = ext4_kunit_mount(test, cfg, opts[0]);
	file = ext4_kunit_create(fs, "race");
	ext4_kunit_fsync(fs, file);
	free = percpu_counter_sum(&EXT4_SB(fs->mnt->mnt_sb)->s_freeclusters_counter);

	begin = ktime_get();
	for (round = 0; round < rounds; round++) {
		bool ok;

		ok = race_round(test, race, file, round);

		snprintf(when, sizeof(when), "round %u (%s), in the page cache",
			 round, fs->opts ?: "delalloc");
		size = read_file(fs, file, cache);
		model_build(&model, race);
		ok &= check_size(test, &model, race, size, when);
		ok &= check_content(test, &model, race, cache, size, when);

		snprintf(when, sizeof(when), "round %u (%s), after sync",
			 round, fs->opts ?: "delalloc");
		ext4_kunit_fsync(fs, file);
		KUNIT_EXPECT_EQ_MSG(test, EXT4_I(file_inode(file))->i_disksize,
				    (loff_t)size, "%s: i_disksize after fsync", when);
		check_reserved(fs, file, when);

		snprintf(when, sizeof(when), "round %u (%s), after a remount",
			 round, fs->opts ?: "delalloc");
		fs->opts = opts[(round + 1) % ARRAY_SIZE(opts)];
		ext4_kunit_remount(fs);
		file = ext4_kunit_open(fs, "race");
		disk_size = read_file(fs, file, disk);
		check_free(fs, file, free, when);
		ok &= check_same(test, race, cache, size, disk, disk_size,
				 when);
		if (!ok)
			break;
		memcpy(race->base, disk, RACE_FILE_MAX);
		race->base_size = disk_size;
	}
	report_counts(test, race, min(round + 1, rounds),
		      ktime_ms_delta(ktime_get(), begin));
}

static struct kunit_case ext4_concurrency_cases[] = {
	KUNIT_CASE_PARAM(race_one_file, config_gen_params),
	{}
};

static struct kunit_suite ext4_concurrency_suite = {
	.name = "ext4_concurrency",
	.test_cases = ext4_concurrency_cases,
};

kunit_test_suites(&ext4_concurrency_suite);
