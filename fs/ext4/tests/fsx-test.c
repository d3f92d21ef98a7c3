// SPDX-License-Identifier: GPL-2.0
/*
 * Randomized differential test of ext4 buffered I/O, in the manner of fsx.
 *
 * Each case mounts a fresh filesystem of one geometry on one buffered I/O
 * path (every entry of ext4_kunit_configs) and applies a long sequence of
 * random operations to one file, drawn from a seeded prandom state so that
 * any sequence can be run again.  The same operations are applied to a model
 * of the file, a buffer and a size, and after every operation the file must
 * equal the model: its i_size, and every byte a read of the whole file
 * returns.  The operations:
 *
 *  - write: a random range, unaligned or block aligned, often past EOF (the
 *    gap reads as zeros);
 *  - read: a random range, compared with the model;
 *  - mapwrite: stores through a shared mapping of the file within i_size
 *    (->page_mkwrite runs), unmapped at once;
 *  - truncate up and down (what a truncate down cut reads as zeros when a
 *    truncate up or a write brings it back);
 *  - punch hole (with KEEP_SIZE), zero range with and without KEEP_SIZE, and
 *    fallocate with and without KEEP_SIZE;
 *  - collapse range and insert range, with block (on bigalloc cluster)
 *    aligned offsets and lengths, which shift the tail of the file;
 *  - fsync, writeback and page cache drop, evicting the inode and reading it
 *    back, and remounting the filesystem: these change no byte, and catch
 *    what writeback, its completion (extent conversion, i_disksize) and the
 *    on-disk state get wrong.
 *
 * The file never grows past FSX_MAX_SIZE, small enough for 8 cases of 5000
 * operations to take a few seconds under UML.  The check after each
 * operation reads the whole file; so that it does not leave the whole file
 * cached (and every later write landing in uptodate folios), it drops again
 * the folios that it read in.  A folio that the check finds cached but only
 * partly uptodate comes out of it wholly uptodate.
 *
 * On a mismatch the case stops and fails with the seed, the number of the
 * operation after which the file differs, the first differing byte (or the
 * size), and the last FSX_LOG operations, one a line as "#1234 write
 * 0x3000+0x1a2" (offset+length; truncate gives the new size).  A case that a
 * fixture helper aborts (an operation that must succeed failed) prints the
 * same operation log.
 *
 * Replay: every case prints its seeds at its start.  Each case derives its
 * own seed from the base seed fsx_seed and the index of its configuration,
 * so the 8 cases run different sequences, and the base seed alone replays
 * all of them; fsx_ops sets the number of operations of each case, and
 * fsx_verbose logs every operation.  With the harness:
 *
 *   make test KUNIT_FILTER='ext4_fsx*' \
 *	KERNEL_ARGS='ext4_test.fsx_seed=N ext4_test.fsx_ops=M'
 *
 * fsx_opts adds mount options ("nodelalloc", ...), for soaks.  A soak of
 * many operations may need a longer KUnit case timeout (kunit.timeout=S,
 * seconds) and a longer harness timeout (KUNIT_TIMEOUT=S).
 */
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/find.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fixture.h"

static ulong fsx_seed = 1;
module_param(fsx_seed, ulong, 0444);
MODULE_PARM_DESC(fsx_seed, "ext4_fsx: base seed of the random operations");

static uint fsx_ops = 5000;
module_param(fsx_ops, uint, 0444);
MODULE_PARM_DESC(fsx_ops, "ext4_fsx: operations per case");

static bool fsx_verbose;
module_param(fsx_verbose, bool, 0444);
MODULE_PARM_DESC(fsx_verbose, "ext4_fsx: log every operation");

static char *fsx_opts;
module_param(fsx_opts, charp, 0444);
MODULE_PARM_DESC(fsx_opts, "ext4_fsx: extra mount options");

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);

#define FSX_MAX_SIZE	SZ_128K
#define FSX_MAX_PAGES	(FSX_MAX_SIZE / PAGE_SIZE)
/* Longest write, read, punch or zero range. */
#define FSX_MAX_LEN	(FSX_MAX_SIZE / 4)
/* Operations kept for the failure report. */
#define FSX_LOG		16
#define FSX_FILE	"fsx"

enum fsx_op {
	FSX_WRITE,
	FSX_READ,
	FSX_MAPWRITE,
	FSX_TRUNCATE,
	FSX_PUNCH,
	FSX_ZERO,
	FSX_ZERO_KEEP,
	FSX_COLLAPSE,
	FSX_INSERT,
	FSX_FALLOC,
	FSX_FALLOC_KEEP,
	FSX_FSYNC,
	FSX_DROP,
	FSX_EVICT,
	FSX_REMOUNT,
	FSX_NR_OPS
};

/*
 * Names for the log, and weights (out of 100): mostly operations that change
 * data, with enough writeback, eviction and remounts that each change soon
 * goes through writeback and is read back from disk.
 */
static const struct {
	const char *name;
	unsigned int weight;
} fsx_op_info[FSX_NR_OPS] = {
	[FSX_WRITE]		= { "write",		26 },
	[FSX_READ]		= { "read",		8 },
	[FSX_MAPWRITE]		= { "mapwrite",		8 },
	[FSX_TRUNCATE]		= { "truncate",		7 },
	[FSX_PUNCH]		= { "punch",		7 },
	[FSX_ZERO]		= { "zero",		4 },
	[FSX_ZERO_KEEP]		= { "zero_keep",	4 },
	[FSX_COLLAPSE]		= { "collapse",		4 },
	[FSX_INSERT]		= { "insert",		4 },
	[FSX_FALLOC]		= { "falloc",		2 },
	[FSX_FALLOC_KEEP]	= { "falloc_keep",	2 },
	[FSX_FSYNC]		= { "fsync",		8 },
	[FSX_DROP]		= { "drop",		7 },
	[FSX_EVICT]		= { "evict",		7 },
	[FSX_REMOUNT]		= { "remount",		2 },
};

/* One operation: @pos and @len, or for a truncate the new size in @pos. */
struct fsx_rec {
	unsigned int nr;
	enum fsx_op op;
	loff_t pos;
	loff_t len;
};

struct fsx {
	struct kunit *test;
	struct ext4_kunit_fs *fs;
	struct file *file;
	struct rnd_state rnd;
	u64 seed;			/* this case's seed */
	unsigned int blocksize;
	/* Alignment of collapse and insert range: the cluster size. */
	unsigned int align;
	unsigned int nr;		/* the operation running, from 1 */
	loff_t size;			/* the model: size, and bytes */
	u8 *model;			/* zero past size */
	u8 *buf;			/* what the file reads as */
	u8 *data;			/* what a write writes */
	struct fsx_rec log[FSX_LOG];
	unsigned int count[FSX_NR_OPS];
	bool reported;			/* the log is printed */
};

KUNIT_DEFINE_ACTION_WRAPPER(kvfree_action, kvfree, const void *);

static void *fsx_alloc(struct kunit *test, size_t len)
{
	void *p = kvzalloc(len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kvfree_action, p),
			0);
	return p;
}

/* A number in [0, @n). */
static u32 fsx_rand(struct fsx *x, u32 n)
{
	return ((u64)prandom_u32_state(&x->rnd) * n) >> 32;
}

static bool fsx_has_range(enum fsx_op op)
{
	return op != FSX_TRUNCATE && op < FSX_FSYNC;
}

static void fsx_format(const struct fsx_rec *r, char *s, size_t n)
{
	const char *name = fsx_op_info[r->op].name;

	if (r->op == FSX_TRUNCATE)
		snprintf(s, n, "#%u %s %#llx", r->nr, name, r->pos);
	else if (fsx_has_range(r->op))
		snprintf(s, n, "#%u %s %#llx+%#llx", r->nr, name, r->pos,
			 r->len);
	else
		snprintf(s, n, "#%u %s", r->nr, name);
}

/* The last FSX_LOG operations, oldest first, up to the one running. */
static void fsx_print_log(struct fsx *x)
{
	unsigned int first = x->nr > FSX_LOG ? x->nr - FSX_LOG + 1 : 1;
	unsigned int n;
	char line[64];

	x->reported = true;
	kunit_err(x->test, "seed %lu (case seed %#llx), the last operations:",
		  fsx_seed, x->seed);
	for (n = first; n <= x->nr; n++) {
		fsx_format(&x->log[n % FSX_LOG], line, sizeof(line));
		kunit_err(x->test, "  %s", line);
	}
}

/* At cleanup: a fixture helper failed the case in the middle of an op. */
static void fsx_report_abort(void *data)
{
	struct fsx *x = data;

	if (x->test->status == KUNIT_FAILURE && !x->reported && x->nr)
		fsx_print_log(x);
}

/* Fail the case with what differs, and print the last operations. */
static __printf(2, 3) void fsx_mismatch(struct fsx *x, const char *fmt, ...)
{
	char what[128];
	va_list args;

	va_start(args, fmt);
	vsnprintf(what, sizeof(what), fmt, args);
	va_end(args);
	KUNIT_FAIL(x->test, "seed %lu (case seed %#llx): after operation #%u (%s): %s",
		   fsx_seed, x->seed, x->nr,
		   fsx_op_info[x->log[x->nr % FSX_LOG].op].name, what);
	fsx_print_log(x);
}

/* Indices of the folios of the file in the page cache. */
static void fsx_cached(struct fsx *x, unsigned long *cached)
{
	pgoff_t index;

	bitmap_zero(cached, FSX_MAX_PAGES);
	for (index = 0; index < FSX_MAX_PAGES; index++) {
		struct folio *folio = filemap_get_folio(x->file->f_mapping,
							index);

		if (!IS_ERR(folio)) {
			__set_bit(index, cached);
			folio_put(folio);
		}
	}
}

/*
 * Read the whole file through the page cache and compare it with the model.
 * The folios that were not cached before are dropped again, so that checking
 * changes as little as it can of what the next operation finds: they are
 * clean, and invalidate_inode_pages2_range() drops them even while the
 * LRU batch that they were just added to holds a reference, which makes
 * invalidate_mapping_pages() keep them.
 */
static bool fsx_check(struct fsx *x)
{
	loff_t isize = i_size_read(file_inode(x->file));
	DECLARE_BITMAP(cached, FSX_MAX_PAGES);
	unsigned int start, end;
	size_t got, i;

	if (isize != x->size) {
		fsx_mismatch(x, "i_size is %#llx, expected %#llx", isize,
			     x->size);
		return false;
	}
	fsx_cached(x, cached);
	got = ext4_kunit_read(x->fs, x->file, 0, x->buf, FSX_MAX_SIZE);
	for_each_clear_bitrange(start, end, cached, FSX_MAX_PAGES)
		invalidate_inode_pages2_range(x->file->f_mapping, start,
					      end - 1);
	if (got != x->size) {
		fsx_mismatch(x, "a read of the whole file returned %#zx bytes, expected %#llx",
			     got, x->size);
		return false;
	}
	if (!memcmp(x->buf, x->model, got))
		return true;
	for (i = 0; x->buf[i] == x->model[i]; i++)
		;
	fsx_mismatch(x, "byte %#zx is %#x, expected %#x (size %#llx)", i,
		     x->buf[i], x->model[i], x->size);
	return false;
}

/* A length: a few bytes, about a block, whole blocks, or up to FSX_MAX_LEN. */
static loff_t fsx_len(struct fsx *x)
{
	switch (fsx_rand(x, 4)) {
	case 0:
		return 1 + fsx_rand(x, 64);
	case 1:
		return 1 + fsx_rand(x, 2 * x->blocksize);
	case 2:
		return (loff_t)x->blocksize * (1 + fsx_rand(x, 4));
	default:
		return 1 + fsx_rand(x, FSX_MAX_LEN);
	}
}

/*
 * An offset below FSX_MAX_SIZE: block aligned, near EOF (where the zeroed
 * tail of the EOF block is), or anywhere.
 */
static loff_t fsx_pos(struct fsx *x)
{
	loff_t pos;

	switch (fsx_rand(x, 4)) {
	case 0:
		return round_down(fsx_rand(x, FSX_MAX_SIZE), x->blocksize);
	case 1:
		pos = x->size - x->blocksize + fsx_rand(x, 3 * x->blocksize);
		return clamp_t(loff_t, pos, 0, FSX_MAX_SIZE - 1);
	default:
		return fsx_rand(x, FSX_MAX_SIZE);
	}
}

/* A range [pos, pos + len) within FSX_MAX_SIZE, not empty. */
static void fsx_range(struct fsx *x, struct fsx_rec *r)
{
	r->pos = fsx_pos(x);
	r->len = min(fsx_len(x), FSX_MAX_SIZE - r->pos);
}

/* The new size of a truncate: anywhere, or near the current size. */
static loff_t fsx_new_size(struct fsx *x)
{
	loff_t size;

	if (fsx_rand(x, 4))
		return fsx_rand(x, FSX_MAX_SIZE + 1);
	size = x->size - 2 * x->blocksize + fsx_rand(x, 4 * x->blocksize);
	return clamp_t(loff_t, size, 0, FSX_MAX_SIZE);
}

/*
 * Collapse range takes aligned ranges that end before EOF; insert range an
 * aligned offset before EOF and a length that keeps the file within
 * FSX_MAX_SIZE.  Return false when the file's size allows none.
 */
static bool fsx_collapse_range(struct fsx *x, struct fsx_rec *r)
{
	u32 size = x->size;
	u32 units = size ? (size - 1) / x->align : 0;
	u32 first;

	if (!units)
		return false;
	first = fsx_rand(x, units);
	r->pos = (loff_t)first * x->align;
	r->len = (loff_t)(1 + fsx_rand(x, units - first)) * x->align;
	return true;
}

static bool fsx_insert_range(struct fsx *x, struct fsx_rec *r)
{
	u32 size = x->size;
	u32 room = (FSX_MAX_SIZE - size) / x->align;

	if (!size || !room)
		return false;
	r->pos = (loff_t)fsx_rand(x, (size - 1) / x->align + 1) * x->align;
	r->len = (loff_t)(1 + fsx_rand(x, min(room, 4U))) * x->align;
	return true;
}

static u32 fsx_total_weight(void)
{
	u32 total = 0;
	int op;

	for (op = 0; op < FSX_NR_OPS; op++)
		total += fsx_op_info[op].weight;
	return total;
}

/* Draw the next operation and its arguments, one that the file allows. */
static void fsx_draw(struct fsx *x, struct fsx_rec *r)
{
	for (;;) {
		u32 w = fsx_rand(x, fsx_total_weight());

		for (r->op = 0; w >= fsx_op_info[r->op].weight; r->op++)
			w -= fsx_op_info[r->op].weight;
		r->pos = 0;
		r->len = 0;
		switch (r->op) {
		case FSX_MAPWRITE:
			if (!x->size)
				continue;
			r->pos = fsx_rand(x, x->size);
			r->len = min(fsx_len(x), x->size - r->pos);
			return;
		case FSX_TRUNCATE:
			r->pos = fsx_new_size(x);
			return;
		case FSX_COLLAPSE:
			if (!fsx_collapse_range(x, r))
				continue;
			return;
		case FSX_INSERT:
			if (!fsx_insert_range(x, r))
				continue;
			return;
		default:
			if (fsx_has_range(r->op))
				fsx_range(x, r);
			return;
		}
	}
}

/* Model a write of x->data to [pos, pos + len). */
static void fsx_model_write(struct fsx *x, loff_t pos, loff_t len)
{
	memcpy(x->model + pos, x->data, len);
	x->size = max(x->size, pos + len);
}

/* Model zeroing [pos, pos + len) of the file, past EOF too unless @keep. */
static void fsx_model_zero(struct fsx *x, loff_t pos, loff_t len, bool keep)
{
	loff_t end = keep ? min(pos + len, x->size) : pos + len;

	if (end > pos)
		memset(x->model + pos, 0, end - pos);
	x->size = max(x->size, end);
}

static void fsx_model_truncate(struct fsx *x, loff_t size)
{
	if (size < x->size)
		memset(x->model + size, 0, x->size - size);
	x->size = size;
}

static void fsx_model_collapse(struct fsx *x, loff_t pos, loff_t len)
{
	memmove(x->model + pos, x->model + pos + len, x->size - pos - len);
	memset(x->model + x->size - len, 0, len);
	x->size -= len;
}

static void fsx_model_insert(struct fsx *x, loff_t pos, loff_t len)
{
	memmove(x->model + pos + len, x->model + pos, x->size - pos);
	memset(x->model + pos, 0, len);
	x->size += len;
}

/*
 * Store x->data at [pos, pos + len) of the file through a shared writable
 * mapping of the whole file.  A mapping pins the file and the mount: it is
 * gone before anything here can fail the case.  vm_mmap() rather than
 * kunit_vm_mmap(), which would keep a resource for each of the thousands of
 * mappings of a case until its end.
 */
static void fsx_mapwrite(struct fsx *x, loff_t pos, loff_t len)
{
	size_t map_len = round_up(x->size, PAGE_SIZE);
	unsigned long addr, left = len;

	addr = vm_mmap(x->file, 0, map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       0);
	if (!IS_ERR_VALUE(addr)) {
		left = copy_to_user((void __user *)(addr + pos), x->data, len);
		vm_munmap(addr, map_len);
	}
	KUNIT_ASSERT_FALSE_MSG(x->test, IS_ERR_VALUE(addr),
			       "mmap of %#zx bytes of the file: %ld", map_len,
			       (long)addr);
	KUNIT_ASSERT_EQ_MSG(x->test, left, 0UL,
			    "store of %#llx bytes at %#llx through the mapping",
			    len, pos);
	fsx_model_write(x, pos, len);
}

static void fsx_read(struct fsx *x, loff_t pos, loff_t len)
{
	loff_t want = clamp_t(loff_t, x->size - pos, 0, len);
	size_t got, i;

	got = ext4_kunit_read(x->fs, x->file, pos, x->buf, len);
	if (got != want) {
		fsx_mismatch(x, "the read returned %#zx bytes, expected %#llx",
			     got, want);
		return;
	}
	for (i = 0; i < got; i++) {
		if (x->buf[i] != x->model[pos + i]) {
			fsx_mismatch(x, "byte %#llx is %#x, expected %#x (size %#llx)",
				     pos + i, x->buf[i], x->model[pos + i],
				     x->size);
			return;
		}
	}
}

static void fsx_fallocate(struct fsx *x, int mode, loff_t pos, loff_t len)
{
	ext4_kunit_fallocate(x->fs, x->file, mode, pos, len);
}

/* Run operation @r on the file and on the model. */
static void fsx_run_op(struct fsx *x, const struct fsx_rec *r)
{
	struct ext4_kunit_fs *fs = x->fs;

	switch (r->op) {
	case FSX_WRITE:
		ext4_kunit_fill(x->data, x->nr, r->pos, r->len);
		ext4_kunit_write(fs, x->file, r->pos, x->data, r->len);
		fsx_model_write(x, r->pos, r->len);
		break;
	case FSX_READ:
		fsx_read(x, r->pos, r->len);
		break;
	case FSX_MAPWRITE:
		ext4_kunit_fill(x->data, x->nr, r->pos, r->len);
		fsx_mapwrite(x, r->pos, r->len);
		break;
	case FSX_TRUNCATE:
		ext4_kunit_truncate(fs, x->file, r->pos);
		fsx_model_truncate(x, r->pos);
		break;
	case FSX_PUNCH:
		fsx_fallocate(x, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      r->pos, r->len);
		fsx_model_zero(x, r->pos, r->len, true);
		break;
	case FSX_ZERO:
		fsx_fallocate(x, FALLOC_FL_ZERO_RANGE, r->pos, r->len);
		fsx_model_zero(x, r->pos, r->len, false);
		break;
	case FSX_ZERO_KEEP:
		fsx_fallocate(x, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			      r->pos, r->len);
		fsx_model_zero(x, r->pos, r->len, true);
		break;
	case FSX_COLLAPSE:
		fsx_fallocate(x, FALLOC_FL_COLLAPSE_RANGE, r->pos, r->len);
		fsx_model_collapse(x, r->pos, r->len);
		break;
	case FSX_INSERT:
		fsx_fallocate(x, FALLOC_FL_INSERT_RANGE, r->pos, r->len);
		fsx_model_insert(x, r->pos, r->len);
		break;
	case FSX_FALLOC:
		/* New space reads as zeros, which the model has past EOF. */
		fsx_fallocate(x, 0, r->pos, r->len);
		x->size = max(x->size, r->pos + r->len);
		break;
	case FSX_FALLOC_KEEP:
		fsx_fallocate(x, FALLOC_FL_KEEP_SIZE, r->pos, r->len);
		break;
	case FSX_FSYNC:
		ext4_kunit_fsync(fs, x->file);
		break;
	case FSX_DROP:
		ext4_kunit_drop_cache(fs, x->file);
		break;
	case FSX_EVICT:
		ext4_kunit_evict(fs, x->file);
		x->file = ext4_kunit_open(fs, FSX_FILE);
		break;
	case FSX_REMOUNT:
		ext4_kunit_remount(fs);
		x->file = ext4_kunit_open(fs, FSX_FILE);
		break;
	default:
		KUNIT_FAIL_AND_ABORT(x->test, "unknown operation %d", r->op);
	}
}

/* Log and run operation number x->nr; false when the file now differs. */
static bool fsx_step(struct fsx *x, const struct fsx_rec *r)
{
	struct fsx_rec *rec = &x->log[x->nr % FSX_LOG];
	char line[64];

	*rec = *r;
	rec->nr = x->nr;
	if (fsx_verbose) {
		fsx_format(rec, line, sizeof(line));
		kunit_info(x->test, "%s", line);
	}
	x->count[r->op]++;
	fsx_run_op(x, rec);
	return !x->reported && fsx_check(x);
}

static void fsx_print_counts(struct fsx *x)
{
	char line[320];
	size_t n = 0;
	int op;

	for (op = 0; op < FSX_NR_OPS; op++)
		n += scnprintf(line + n, sizeof(line) - n, " %s %u",
			       fsx_op_info[op].name, x->count[op]);
	kunit_info(x->test, "%u operations, the last a remount:%s", x->nr,
		   line);
}

/*
 * The seed of the case with configuration @index: the base seed and the
 * index mixed, so that neighbouring base seeds give unrelated sequences.
 */
static u64 fsx_case_seed(u64 base, unsigned int index)
{
	return (base + 1) * 0x9e3779b97f4a7c15ULL ^ index;
}

static void fsx_random_ops(struct kunit *test)
{
	const struct ext4_kunit_config *cfg = test->param_value;
	const struct fsx_rec remount = { .op = FSX_REMOUNT };
	struct fsx *x;

	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	x->test = test;
	x->seed = fsx_case_seed(fsx_seed, cfg - ext4_kunit_configs);
	prandom_seed_state(&x->rnd, x->seed);
	x->blocksize = cfg->geo->blocksize;
	x->align = cfg->geo->clustersize;
	x->model = fsx_alloc(test, FSX_MAX_SIZE);
	x->buf = fsx_alloc(test, FSX_MAX_SIZE);
	x->data = fsx_alloc(test, FSX_MAX_SIZE);
	kunit_info(test, "seed %lu (case seed %#llx), %u operations; replay with "
		   KBUILD_MODNAME ".fsx_seed=%lu " KBUILD_MODNAME ".fsx_ops=%u",
		   fsx_seed, x->seed, fsx_ops, fsx_seed, fsx_ops);

	x->fs = ext4_kunit_mount(test, cfg, fsx_opts);
	x->file = ext4_kunit_create(x->fs, FSX_FILE);
	/* Before the unmount: the file is still open if a helper failed. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fsx_report_abort,
							x), 0);
	/* A user address space, for the mapwrite operation. */
	KUNIT_ASSERT_EQ(test, kunit_attach_mm(), 0);

	for (x->nr = 1; x->nr <= fsx_ops; x->nr++) {
		struct fsx_rec r;

		fsx_draw(x, &r);
		if (!fsx_step(x, &r))
			return;
	}
	/* Last, all of it must have reached the disk. */
	if (!fsx_step(x, &remount))
		return;
	fsx_print_counts(x);
}

static struct kunit_case ext4_fsx_cases[] = {
	KUNIT_CASE_PARAM(fsx_random_ops, config_gen_params),
	{}
};

static struct kunit_suite ext4_fsx_suite = {
	.name = "ext4_fsx",
	.test_cases = ext4_fsx_cases,
};

kunit_test_suites(&ext4_fsx_suite);
